"""aifabric lab TEST DOUBLE of a Cisco Nexus 9000 switch, the show commands: version, inventory, host id, privilege,
hostname, clock, running- and startup-config.

A mixin of nxos_sim.Device, whose state, lock and rules it uses. Test-side only
(lab/simulators/README.md, "Cisco NX-OS switch")."""

import time

from nxos_cli import (
    BANNER, BIOS_VERSION, CHASSIS, NXOS_IMAGE, NXOS_VERSION, PID, find_child, nxos_time, render_block, render_config,
    render_ipqos, serial)


class ShowCommands:
    """The show commands."""

    def version_json(self):
        up = int(time.time() - self.boot)
        return {
            "header_str": BANNER + "\n", "bios_ver_str": BIOS_VERSION, "kickstart_ver_str": NXOS_VERSION, "nxos_ver_str": NXOS_VERSION,
            "bios_cmpl_time": "04/28/2022", "kick_file_name": "bootflash:///" + NXOS_IMAGE, "nxos_file_name": "bootflash:///" + NXOS_IMAGE,
            "kick_cmpl_time": "11/8/2023 12:00:00", "nxos_cmpl_time": "11/8/2023 12:00:00", "kick_tmstmp": "11/08/2023 21:56:03",
            "nxos_tmstmp": "11/08/2023 21:56:03", "chassis_id": CHASSIS, "cpu_name": "Intel(R) Xeon(R) CPU D-1633N @ 2.50GHz",
            "memory": 32772084, "mem_type": "kB", "proc_board_id": serial(self.hostname), "host_name": self.hostname,
            "bootflash_size": 115805708, "kern_uptm_days": up // 86400, "kern_uptm_hrs": up // 3600 % 24, "kern_uptm_mins": up // 60 % 60,
            "kern_uptm_secs": up % 60, "rr_usecs": 123456, "rr_ctime": nxos_time(self.boot), "rr_reason": "Reset Requested by CLI command reload",
            "rr_sys_ver": NXOS_VERSION, "rr_service": None, "plugins": "Core Plugin, Ethernet Plugin", "manufacturer": "Cisco Systems, Inc.",
        }

    def x_show_version(self, session, values, negate):
        j = self.version_json()
        text = "\n".join([
            BANNER, "", "Software",
            "  BIOS: version " + BIOS_VERSION,
            " NXOS: version %s [Maintenance Release]" % NXOS_VERSION,
            "  BIOS compile time:  " + j["bios_cmpl_time"],
            "  NXOS image file is: " + j["nxos_file_name"],
            "  NXOS compile time:  %s [%s]" % (j["nxos_cmpl_time"], j["nxos_tmstmp"]),
            "", "", "Hardware",
            "  cisco %s " % CHASSIS,
            "  %s with %d kB of memory." % (j["cpu_name"], j["memory"]),
            "  Processor Board ID " + j["proc_board_id"],
            "", "  Device name: " + self.hostname,
            "  bootflash:  %d kB" % j["bootflash_size"],
            "", "Kernel uptime is %d day(s), %d hour(s), %d minute(s), %d second(s)" % (
                j["kern_uptm_days"], j["kern_uptm_hrs"], j["kern_uptm_mins"], j["kern_uptm_secs"]),
            "", "Last reset at %d usecs after %s" % (j["rr_usecs"], j["rr_ctime"]),
            "  Reason: " + j["rr_reason"], "  System version: " + NXOS_VERSION, "  Service: ",
            "", "plugin", "  Core Plugin, Ethernet Plugin", "", "Active Package(s):", "",
        ])
        return {"text": text, "json": j}

    def x_show_inventory(self, session, values, negate):
        sn = serial(self.hostname)
        items = [("Chassis", CHASSIS, PID, sn), ("Slot 1", "64x400G QSFP-DD Ethernet Module", PID, sn),
                 ("Power Supply 1", "Nexus9000 C9364D-GX2A Chassis Power Supply", "NXA-PAC-2KW-PI", serial(self.hostname + "ps1", "ART")),
                 ("Power Supply 2", "Nexus9000 C9364D-GX2A Chassis Power Supply", "NXA-PAC-2KW-PI", serial(self.hostname + "ps2", "ART")),
                 ("Fan 1", "Nexus9000 C9364D-GX2A Chassis Fan Module", "NXA-FAN-160CFM-PI", "N/A"),
                 ("Fan 2", "Nexus9000 C9364D-GX2A Chassis Fan Module", "NXA-FAN-160CFM-PI", "N/A")]
        lines, rows = [], []
        for name, descr, pid, snum in items:
            lines += ['NAME: "%s",  DESCR: "%s"' % (name, descr), "PID: %-20s,  VID: V01  ,  SN: %s" % (pid, snum), ""]
            rows.append({"name": name, "desc": descr, "productid": pid, "vendorid": "V01", "serialnum": snum})
        return {"text": "\n".join(lines), "json": {"TABLE_inv": {"ROW_inv": rows}}}

    def x_show_hostid(self, session, values, negate):
        return "License hostid: VDH=" + serial(self.hostname)

    def x_show_privilege(self, session, values, negate):
        return "User privilege level: 15\nFeature privilege: Disabled"

    def x_show_hostname(self, session, values, negate):
        return self.hostname

    def x_show_clock(self, session, values, negate):
        return time.strftime("%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime())

    def x_show_run(self, session, values, negate):
        args = values[2:]
        cfg = self.running
        every = "all" in args
        if args[:1] == ["interface"]:
            iface = find_child(cfg["root"], "interface " + args[1])
            cmd = "show running-config interface " + args[1]
            return "\n".join(self.config_header(cmd) + [""] + render_block(iface, "if", 0, every) + [""])
        if args[:1] == ["ipqos"]:
            cmd = "show running-config ipqos" + (" all" if every else "")
            return "\n".join(self.config_header(cmd) + [""] + render_ipqos(cfg) + [""])
        cmd = "show running-config" + (" all" if every else "")
        return "\n".join(self.config_header(cmd) + render_config(cfg, every))

    def config_header(self, cmd):
        return ["", "!Command: " + cmd, "!Running configuration last done at: " + nxos_time(self.state["last_change"]),
                "!Time: " + nxos_time(time.time()), "", "version %s Bios:version %s " % (NXOS_VERSION, BIOS_VERSION)]

    def x_show_startup(self, session, values, negate):
        head = ["", "!Command: show startup-config", "!Startup config saved at: " + nxos_time(self.state["startup_saved"]),
                "!Time: " + nxos_time(time.time()), "", "version %s Bios:version %s " % (NXOS_VERSION, BIOS_VERSION)]
        return "\n".join(head + render_config(self.state["startup"], False))
