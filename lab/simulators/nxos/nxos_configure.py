"""aifabric lab TEST DOUBLE of a Cisco Nexus 9000 switch, configuration mode: hostname, the keyed and block
commands, class-maps and policy-maps, service-policy, and the interface commands (mtu,
priority-flow-control, shutdown, switchport, ip address).

A mixin of nxos_sim.Device, whose state, lock and rules it uses. Test-side only
(lab/simulators/README.md, "Cisco NX-OS switch")."""

from nxos_cli import (
    CliError, DEFAULT_MTU, ERR_INVALID, ERR_RANGE, JUMBO_MTU, block_key, del_child, find_child, node, set_child)


class ConfigCommands:
    """Configuration mode."""

    def ctx(self, session):
        return session.stack[-1][1]

    def c_hostname(self, session, values, negate):
        self.running["hostname"] = "switch" if negate else values[1]
        self.changed()
        return ""

    def c_line(self, session, values, negate):
        text = " ".join(values)
        if negate:
            del_child(self.ctx(session), text)
        else:
            set_child(self.ctx(session), text, text)
        self.changed()
        return ""

    def c_keyed(self, key):
        def handler(session, values, negate):
            if negate:
                del_child(self.ctx(session), key)
            else:
                set_child(self.ctx(session), key, " ".join(values))
            self.changed()
            return ""
        return handler

    def c_block(self, mode_name, fmt, name_at=3):
        def handler(session, values, negate):
            parent = self.ctx(session)
            text = fmt.format(*values)
            name = values[name_at] if name_at < len(values) else None
            # a class-map/policy-map is identified by type + name (match-any/all is an attribute)
            key = block_key(text)
            if negate:
                if name is not None and text.startswith("policy-map") and self.policy_in_use(text.split()[2], name):
                    raise CliError("ERROR: Policy-map %s is in use, cannot delete" % name)
                del_child(parent, key)
                self.changed()
                return ""
            blk = find_child(parent, key)
            if blk is None:
                blk = node(text, key)
                parent["c"].append(blk)
                self.changed()
            elif blk["t"] != text:
                blk["t"] = text
                self.changed()
            session.stack.append((mode_name, blk))
            return ""
        return handler

    def c_interface(self, session, values, negate):
        name = values[-1]
        if negate:
            raise CliError(ERR_RANGE, len(session.line.rstrip()) - 1)
        blk = find_child(self.running["root"], "interface " + name)
        session.stack.append(("if", blk))
        return ""

    def c_policy_class(self, prefix, cmap_type, builtin, mode):
        """``class ...`` inside a policy-map: enter (creating) the class block; its class-map
        must exist unless it is one of the system classes ``builtin``."""
        def handler(session, values, negate):
            name = values[-1]
            text = prefix + name
            parent = self.ctx(session)
            if negate:
                del_child(parent, text)
                self.changed()
                return ""
            if name not in builtin and find_child(self.running["root"], "class-map type %s %s" % (cmap_type, name)) is None:
                raise CliError("ERROR: class-map %s does not exist" % name)
            blk = find_child(parent, text)
            if blk is None:
                blk = node(text)
                parent["c"].append(blk)
                self.changed()
            session.stack.append((mode, blk))
            return ""
        return handler

    def c_svc_policy(self, ptype):
        def handler(session, values, negate):
            direction = "" if ptype == "network-qos" else " " + values[3]
            key = "service-policy %s%s" % (ptype, direction)
            name = values[-1]
            if negate:
                del_child(self.ctx(session), key)
                self.changed()
                return ""
            if find_child(self.running["root"], "policy-map type %s %s" % (ptype, name)) is None:
                raise CliError("ERROR: policy-map %s does not exist" % name)
            set_child(self.ctx(session), key, "service-policy type %s%s %s" % (ptype, direction, name))
            self.changed()
            return ""
        return handler

    def policy_in_use(self, ptype, name):
        suffix = " " + name
        for blk in self.running["root"]["c"]:
            if blk["t"] == "system qos" or blk["t"].startswith("interface "):
                for child in blk["c"]:
                    if child["t"].startswith("service-policy type %s " % ptype) and child["t"].endswith(suffix):
                        return True
        return False

    def i_mtu(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            del_child(blk, "mtu")
            self.changed()
            return ""
        mtu = int(values[1])
        if mtu % 2:
            raise CliError("ERROR: %s: MTU must be an even number" % blk["t"].split()[1])
        if find_child(blk, "switchport") is None and mtu not in (DEFAULT_MTU, JUMBO_MTU):
            raise CliError("ERROR: %s: MTU on L2 interfaces can only be set to default or system-jumboMTU" % blk["t"].split()[1])
        if mtu == DEFAULT_MTU:
            del_child(blk, "mtu")
        else:
            set_child(blk, "mtu", "mtu %d" % mtu)
        self.changed()
        return ""

    def i_pfc_mode(self, session, values, negate):
        blk = self.ctx(session)
        if negate or values[2] == "auto":
            del_child(blk, "priority-flow-control mode")
        else:
            set_child(blk, "priority-flow-control mode", "priority-flow-control mode " + values[2])
        self.changed()
        return ""

    def i_shutdown(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            set_child(blk, "shutdown", "no shutdown")
        else:
            del_child(blk, "shutdown")
        self.changed()
        return ""

    def i_switchport(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            set_child(blk, "switchport", "no switchport")
        elif del_child(blk, "switchport"):
            # back to layer 2: the layer-3 configuration goes, like on the real switch
            del_child(blk, "ip address")
            mtu = find_child(blk, "mtu")
            if mtu is not None and int(mtu["t"].split()[1]) != JUMBO_MTU:
                del_child(blk, "mtu")
        self.changed()
        return ""

    def i_ip_address(self, session, values, negate):
        blk = self.ctx(session)
        if find_child(blk, "switchport") is None:
            raise CliError(ERR_INVALID, 0)
        if negate:
            del_child(blk, "ip address")
        else:
            # NX-OS shows a dotted mask as a prefix length
            set_child(blk, "ip address", "ip address " + values[2] + ("/" + values[3] if len(values) > 3 else ""))
        self.changed()
        return ""
