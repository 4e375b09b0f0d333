"""Simulated Dell Enterprise SONiC switch: the RESTCONF API the dellemc.enterprise_sonic modules use.

A test double (lab only). HTTPS + basic auth, RESTCONF (RFC 8040) on /restconf/data with the
openconfig / sonic YANG JSON (RFC 7951) the modules send and parse: GET, PATCH (merge), PUT
(replace), POST (create), DELETE. Paths and bodies outside the modelled schema are refused with
a RESTCONF error, never accepted silently. The configuration is one JSON document in
<state-dir>/state.json, rewritten atomically after every change (it survives a restart).

Test hooks (not SONiC, same auth): GET /aifabric-sim/state, PUT /aifabric-sim/state (replace the
configuration tree, validated), POST /aifabric-sim/reset (factory configuration), GET
/aifabric-sim/log (requests served since start: method, path, status), POST /aifabric-sim/fault
{"reject": REGEX[, "count": N]} (a write whose "METHOD path body" matches is refused with 400;
the first N only, then the fault clears itself) and {"clear": true}.

Python 3.11 standard library only.
"""
import argparse
import base64
import copy
import hmac
import json
import os
import re
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

VERSION = '4.4.0'  # Dell Enterprise SONiC release modelled (dellemc.enterprise_sonic 3.x)
RESTCONF_DATA = '/restconf/data'
JSON_TYPE = 'application/yang-data+json'


class RestconfError(Exception):
    """A RESTCONF error answer."""

    def __init__(self, status, message, tag='invalid-value', etype='application'):
        super().__init__(message)
        self.status, self.message, self.tag, self.etype = status, message, tag, etype

    def body(self):
        return {'ietf-restconf:errors': {'error': [
            {'error-type': self.etype, 'error-tag': self.tag, 'error-message': self.message}]}}


def not_found():
    return RestconfError(404, 'Resource not found')


def bad(message):
    return RestconfError(400, message)


# --------------------------------------------------------------------------- schema

class Leaf:
    def __init__(self, kind, mod=None, lo=None, hi=None, values=None, pattern=None):
        self.kind, self.mod, self.lo, self.hi, self.values, self.pattern = kind, mod, lo, hi, values, pattern

    def check(self, name, value):
        """The value as stored (RFC 7951: uint64 as a string), or RestconfError."""
        if self.kind == 'bool':
            if not isinstance(value, bool):
                raise bad('Invalid value %s for %s: expected a boolean' % (json.dumps(value), name))
            return value
        if self.kind in ('uint', 'uint64'):
            if isinstance(value, bool):
                raise bad('Invalid value %s for %s' % (json.dumps(value), name))
            if isinstance(value, str) and re.fullmatch(r'[0-9]+', value) and self.kind == 'uint64':
                number = int(value)
            elif isinstance(value, int):
                number = value
            else:
                raise bad('Invalid value %s for %s: expected an unsigned integer' % (json.dumps(value), name))
            if (self.lo is not None and number < self.lo) or (self.hi is not None and number > self.hi):
                raise bad('Invalid value %s for %s: out of range (%s..%s)' % (number, name, self.lo, self.hi))
            return str(number) if self.kind == 'uint64' else number
        if self.kind == 'enum':
            if not isinstance(value, str):
                raise bad('Invalid value %s for %s' % (json.dumps(value), name))
            bare = value.split(':', 1)[-1]
            if bare not in self.values:
                raise bad('Invalid value %s for %s: expected one of %s' % (value, name, ', '.join(self.values)))
            return value
        # string
        if not isinstance(value, str):
            raise bad('Invalid value %s for %s: expected a string' % (json.dumps(value), name))
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise bad('Invalid value "%s" for %s' % (value, name))
        return value


class Cont:
    def __init__(self, children, mod=None):
        self.children, self.mod = children, mod


class List:
    def __init__(self, key, children, mod=None):
        self.key, self.children, self.mod = key, children, mod


def S(**kw):
    return Leaf('string', **kw)


def U(lo=None, hi=None, **kw):
    return Leaf('uint', lo=lo, hi=hi, **kw)


def U64(lo=None, hi=None, **kw):
    return Leaf('uint64', lo=lo, hi=hi, **kw)


def B(**kw):
    return Leaf('bool', **kw)


def E(*values, **kw):
    return Leaf('enum', values=values, **kw)


def keyed_list(key, key_leaf, config, extra=None, mod=None):
    """An openconfig list: the key leaf, config container (key + config leaves) and extra children."""
    children = {key: key_leaf, 'config': Cont(dict({key: key_leaf}, **config))}
    children.update(extra or {})
    return List(key, children, mod)


MAPS = 'openconfig-qos-maps-ext'
FWD_GROUP = S(pattern=r'[0-7]')
# kind -> (key leaf, key schema, value leaf, value schema)
QOS_MAP_KINDS = {
    'dscp-map': ('dscp', U(0, 63), 'fwd-group', FWD_GROUP),
    'dot1p-map': ('dot1p', U(0, 7), 'fwd-group', FWD_GROUP),
    'forwarding-group-queue-map': ('fwd-group', FWD_GROUP, 'output-queue-index', U(0, 7)),
    'forwarding-group-dscp-map': ('fwd-group', FWD_GROUP, 'dscp', U(0, 63)),
    'forwarding-group-dot1p-map': ('fwd-group', FWD_GROUP, 'dot1p', U(0, 7)),
    'forwarding-group-priority-group-map': ('fwd-group', FWD_GROUP, 'priority-group-index', U(0, 7)),
    'pfc-priority-queue-map': ('dot1p', U(0, 7), 'output-queue-index', U(0, 7)),
    'pfc-priority-priority-group-map': ('dot1p', U(0, 7), 'priority-group-index', U(0, 7)),
}
# interface-maps leaf -> map kind
INTERFACE_MAPS = {
    'dscp-to-forwarding-group': 'dscp-map',
    'dot1p-to-forwarding-group': 'dot1p-map',
    'forwarding-group-to-queue': 'forwarding-group-queue-map',
    'forwarding-group-to-dscp': 'forwarding-group-dscp-map',
    'forwarding-group-to-dot1p': 'forwarding-group-dot1p-map',
    'forwarding-group-to-priority-group': 'forwarding-group-priority-group-map',
    'pfc-priority-to-queue': 'pfc-priority-queue-map',
    'pfc-priority-to-priority-group': 'pfc-priority-priority-group-map',
}
NAME = S(pattern=r'[A-Za-z0-9_.:-]{1,63}')


def qos_schema():
    children = {}
    for kind, (k1, s1, k2, s2) in QOS_MAP_KINDS.items():
        entry = keyed_list(k1, s1, {k2: s2})
        children[kind + 's'] = Cont({kind: keyed_list('name', NAME, {}, {kind + '-entries': Cont({kind + '-entry': entry})})}, mod=MAPS)
    children['wred-profiles'] = Cont({'wred-profile': keyed_list('name', NAME, {
        'ecn': E('ECN_NONE', 'ECN_GREEN', 'ECN_YELLOW', 'ECN_RED', 'ECN_GREEN_YELLOW', 'ECN_GREEN_RED', 'ECN_YELLOW_RED', 'ECN_ALL'),
        'wred-green-enable': B(), 'green-min-threshold': U64(1000, 12480000), 'green-max-threshold': U64(1000, 12480000),
        'green-drop-probability': U64(0, 100),
    })})
    children['scheduler-policies'] = Cont({'scheduler-policy': keyed_list('name', NAME, {}, {
        'schedulers': Cont({'scheduler': keyed_list('sequence', U(0, 255), {
            'priority': E('STRICT', 'DWRR', 'WRR'), 'weight': U(1, 100), 'meter-type': E('PACKETS', 'BYTES'),
        }, {'two-rate-three-color': Cont({'config': Cont({'cir': U64(), 'pir': U64(), 'bc': U(), 'be': U()})})})}),
    })})
    children['pfc-watchdog'] = Cont({
        'flex': Cont({'config': Cont({'counter-poll': E('ENABLE', 'DISABLE')})}),
        'poll': Cont({'config': Cont({'poll-interval': U(100, 3000)})}),
    })
    children['interfaces'] = Cont({'interface': keyed_list('interface-id', S(), {}, {
        'output': Cont({'scheduler-policy': Cont({'config': Cont({'name': NAME})})}),
        'cable-length': Cont({'config': Cont({'length': E('5m', '40m', '300m')})}, mod='openconfig-qos-buffer'),
        'interface-maps': Cont({'config': Cont(dict((leaf, NAME) for leaf in INTERFACE_MAPS))}, mod=MAPS),
        'pfc': Cont({
            'config': Cont({'asymmetric': B()}),
            'pfc-priorities': Cont({'pfc-priority': keyed_list('dot1p', U(0, 7), {'enable': B()})}),
            'watchdog': Cont({'config': Cont({'action': E('DROP', 'FORWARD', 'ALERT'), 'detection-time': U(100, 5000),
                                              'restoration-time': U(100, 60000)})}),
        }),
    })})
    children['queues'] = Cont({'queue': keyed_list('name', S(pattern=r'[A-Za-z0-9/]+:[0-9]+'), {}, {
        'wred': Cont({'config': Cont({'wred-profile': NAME})}),
    })})
    return Cont(children, mod='openconfig-qos')


def interfaces_schema():
    address = keyed_list('ip', S(pattern=r'[0-9.]+'), {'prefix-length': U(0, 32), 'secondary': B()})
    address6 = keyed_list('ip', S(pattern=r'[0-9a-fA-F:]+'), {'prefix-length': U(0, 128)})
    ipv4 = Cont({'addresses': Cont({'address': address})}, mod='openconfig-if-ip')
    ipv6 = Cont({'config': Cont({'enabled': B()}), 'addresses': Cont({'address': address6})}, mod='openconfig-if-ip')
    sub = keyed_list('index', U(0, 4094), {}, {'openconfig-if-ip:ipv4': ipv4, 'openconfig-if-ip:ipv6': ipv6})
    ethernet = Cont({'config': Cont({
        'port-speed': S(pattern=r'(openconfig-if-ethernet:)?SPEED_[0-9]+[GM]B'), 'auto-negotiate': B(),
    })}, mod='openconfig-if-ethernet')
    return Cont({'interface': keyed_list('name', S(pattern=r'[A-Za-z]+[0-9/.]*'), {
        'mtu': U(1312, 9216), 'enabled': B(), 'description': S(), 'type': S(),
    }, {'openconfig-if-ethernet:ethernet': ethernet, 'subinterfaces': Cont({'subinterface': sub})})},
        mod='openconfig-interfaces')


def metadata_schema():
    return Cont({'DEVICE_METADATA': Cont({'DEVICE_METADATA_LIST': List('name', {
        'name': S(), 'hostname': S(), 'hwsku': S(), 'platform': S(), 'mac': S(),
        'intf_naming_mode': E('native', 'standard'), 'type': S(),
    })})}, mod='sonic-device-metadata')


def _fix_prefixed(node):
    """Children written 'module:name' in the tables above: the name, with the module set."""
    if isinstance(node, (Cont, List)):
        fixed = {}
        for name, child in node.children.items():
            if ':' in name:
                mod, name = name.split(':', 1)
                child.mod = mod
            fixed[name] = _fix_prefixed(child)
        node.children = fixed
    return node


ROOT = _fix_prefixed(Cont({
    'qos': qos_schema(),
    'interfaces': interfaces_schema(),
    'sonic-device-metadata': metadata_schema(),
}))


def _set_modules(node, mod):
    """Every node its own copy (leaves are shared in the tables) with its module: its own or its parent's."""
    node = copy.copy(node)
    node.mod = node.mod or mod
    if isinstance(node, (Cont, List)):
        node.children = dict((name, _set_modules(child, node.mod)) for name, child in node.children.items())
    return node


ROOT.children = dict((name, _set_modules(top, top.mod)) for name, top in ROOT.children.items())


def child_schema(node, member, parent_mod, where):
    """(local name, schema) of a JSON member or path segment name under node."""
    mod, dummy, name = member.rpartition(':')
    child = node.children.get(name) if isinstance(node, (Cont, List)) else None
    if child is None:
        raise bad('Invalid path or payload: unknown element "%s" under %s' % (member, where or '/'))
    if mod and mod != child.mod:
        raise bad('Invalid path or payload: "%s" is not in module %s' % (name, mod))
    if not mod and parent_mod is None:
        raise bad('Invalid path or payload: top-level element "%s" must be qualified with its module name' % name)
    return name, child


def qualified(child, parent_mod):
    return child.mod != parent_mod


# --------------------------------------------------------------------------- data (RFC 7951 <-> internal)

def load_value(node, value, where, parent_mod):
    """Validate a JSON value against node; the internal form (local names, lists as lists)."""
    if isinstance(node, Leaf):
        return node.check(where, value)
    if isinstance(node, List):
        if not isinstance(value, list):
            raise bad('Invalid payload: %s must be a list' % where)
        out = []
        for item in value:
            entry = load_value(Cont(node.children, node.mod), item, where, parent_mod)
            if node.key not in entry:
                raise bad('Invalid payload: %s entry without its key %s' % (where, node.key))
            if 'config' in entry and node.key in entry['config'] and entry['config'][node.key] != entry[node.key]:
                raise bad('Invalid payload: %s key %s differs from config/%s' % (where, node.key, node.key))
            out.append(entry)
        return out
    if not isinstance(value, dict):
        raise bad('Invalid payload: %s must be an object' % where)
    out = {}
    for member, sub in value.items():
        name, child = child_schema(node, member, node.mod, where)
        out[name] = load_value(child, sub, '%s/%s' % (where, name), node.mod)
    return out


def dump_value(node, value, parent_mod):
    if isinstance(node, Leaf):
        return value
    if isinstance(node, List):
        return [dump_value(Cont(node.children, node.mod), item, node.mod) for item in value]
    out = {}
    for name, sub in value.items():
        child = node.children[name]
        out[(child.mod + ':' + name) if qualified(child, node.mod) else name] = dump_value(child, sub, node.mod)
    return out


def merge(node, have, new):
    """PATCH: merge new into have (both internal form) under schema node."""
    if isinstance(node, Leaf):
        return new
    if isinstance(node, List):
        entry_node = Cont(node.children, node.mod)
        by_key = dict((item[node.key], i) for i, item in enumerate(have))
        out = list(have)
        for item in new:
            if item[node.key] in by_key:
                out[by_key[item[node.key]]] = merge(entry_node, out[by_key[item[node.key]]], item)
            else:
                by_key[item[node.key]] = len(out)
                out.append(copy.deepcopy(item))
        return out
    out = dict(have)
    for name, sub in new.items():
        out[name] = merge(node.children[name], out[name], sub) if name in out else copy.deepcopy(sub)
    return out


def prune(node, value):
    """Drop empty containers and lists (what the switch does not report)."""
    if isinstance(node, Leaf):
        return value
    if isinstance(node, List):
        entry_node = Cont(node.children, node.mod)
        return [prune(entry_node, item) for item in value]
    out = {}
    for name, sub in value.items():
        sub = prune(node.children[name], sub)
        if sub in ({}, []):
            continue
        out[name] = sub
    return out


# --------------------------------------------------------------------------- paths

def parse_path(path):
    """[(member, [key values] or None)] of a RESTCONF data path (after /restconf/data)."""
    segments = []
    for raw in [s for s in path.split('/') if s]:
        name, eq, keys = raw.partition('=')
        segments.append((unquote(name), [unquote(k) for k in keys.split(',')] if eq else None))
    return segments


class Target:
    """A resolved path: the chain of (schema node, local name, key) from the root."""

    def __init__(self, steps):
        self.steps = steps  # [(name, schema, key or None)]

    @property
    def node(self):
        return self.steps[-1][1]

    @property
    def name(self):
        return self.steps[-1][0]

    @property
    def key(self):
        return self.steps[-1][2]

    def parent_mod(self):
        return self.steps[-2][1].mod if len(self.steps) > 1 else None


def resolve(path):
    steps = []
    node, mod, where = ROOT, None, ''
    for member, keys in parse_path(path):
        if isinstance(node, List):
            raise bad('Invalid path: list %s needs a key before /%s' % (where, member))
        name, child = child_schema(node, member, mod, where)
        key = None
        if keys is not None:
            if not isinstance(child, List):
                raise bad('Invalid path: %s is not a list' % name)
            if len(keys) != 1:
                raise bad('Invalid path: list %s has one key (%s)' % (name, child.key))
            key_leaf = child.children[child.key]
            raw = keys[0]
            if isinstance(key_leaf, Leaf) and key_leaf.kind in ('uint', 'uint64'):
                if not re.fullmatch(r'[0-9]+', raw):
                    raise bad('Invalid path: key %s=%s is not a number' % (child.key, raw))
                raw = int(raw)
            key = key_leaf.check(child.key, raw)
        steps.append((name, child, key))
        where += '/' + name
        mod = child.mod
        node = Cont(child.children, child.mod) if (isinstance(child, List) and key is not None) else child
    if not steps:
        raise bad('Invalid path: no resource')
    return Target(steps)


def walk(tree, target, create=False):
    """(holder, slot) of the target in the tree: holder[slot] is its value; None when absent (not create)."""
    holder, slot = {'root': tree}, 'root'
    for name, schema, key in target.steps:
        value = holder[slot]
        if name not in value:
            if not create:
                return None
            value[name] = [] if isinstance(schema, List) else ({} if isinstance(schema, Cont) else None)
        holder, slot = value, name
        if key is not None:
            items = holder[slot]
            for i, item in enumerate(items):
                if item.get(schema.key) == key:
                    holder, slot = items, i
                    break
            else:
                if not create:
                    return None
                entry = {schema.key: key}
                if 'config' in schema.children:
                    entry['config'] = {schema.key: key}
                items.append(entry)
                holder, slot = items, len(items) - 1
    return holder, slot


def body_value(target, body):
    """The internal value of a request body for the target resource."""
    if not isinstance(body, dict) or len(body) != 1:
        raise bad('Invalid payload: expected one member named after the target resource %s' % target.name)
    member, value = next(iter(body.items()))
    mod, dummy, name = member.rpartition(':')
    if name != target.name or (mod and mod != target.node.mod):
        raise bad('Invalid payload: member "%s" does not match the target resource %s' % (member, target.name))
    node = target.node
    if isinstance(node, List):
        loaded = load_value(node, value, target.name, target.parent_mod())
        if target.key is not None:
            if len(loaded) != 1 or loaded[0][node.key] != target.key:
                raise bad('Invalid payload: the list entry key does not match the URI key %s' % target.key)
            return loaded[0]
        return loaded
    return load_value(node, value, target.name, target.parent_mod())


def post_target(tree, target, body):
    """POST creates the child named in the body under the target resource (RFC 8040 4.4.1)."""
    if not isinstance(body, dict) or len(body) != 1:
        raise bad('Invalid payload: expected one member, the resource to create')
    if any(key is not None for _n, _s, key in target.steps) and walk(tree, target) is None:
        raise not_found()
    parent = target.node
    if isinstance(parent, List):
        if target.key is None:
            raise bad('Invalid path: POST to list %s needs a key' % target.name)
        parent = Cont(parent.children, parent.mod)
    if isinstance(parent, Leaf):
        raise bad('Invalid path: cannot create under leaf %s' % target.name)
    name, child = child_schema(parent, next(iter(body)), parent.mod, target.name)
    if not isinstance(child, List):
        found = walk(tree, Target(target.steps + [(name, child, None)]))
        if found is not None and found[0][found[1]] not in ({}, [], None):
            raise RestconfError(409, 'Resource already exists', tag='resource-denied')
    return Target(target.steps + [(name, child, None)])


# --------------------------------------------------------------------------- the switch

def port_list(spec):
    """Ports from 'Ethernet0-248/8' (first-last/step) or a comma list."""
    match = re.fullmatch(r'([A-Za-z]+)(\d+)-(\d+)(?:/(\d+))?', spec)
    if match:
        prefix, first, last, step = match.group(1), int(match.group(2)), int(match.group(3)), int(match.group(4) or 1)
        return ['%s%d' % (prefix, n) for n in range(first, last + 1, step)]
    return [p.strip() for p in spec.split(',') if p.strip()]


# sonic-buildimage files/build_templates/qos_config.j2, DSCP_TO_TC_MAP "AZURE": DSCP 26 goes to the lossy TC1
AZURE_DSCP_TO_TC = dict((dscp, 1) for dscp in range(64))
AZURE_DSCP_TO_TC.update({3: 3, 4: 4, 5: 2, 8: 0, 46: 5, 48: 6})


def factory_config(hostname, ports, speed):
    interfaces = [{'name': 'eth0', 'config': {'name': 'eth0', 'mtu': 1500, 'enabled': True, 'description': 'Management0'}}]
    for port in ports:
        interfaces.append({'name': port, 'config': {'name': port, 'mtu': 9100, 'enabled': False},
                           'ethernet': {'config': {'port-speed': 'openconfig-if-ethernet:' + speed, 'auto-negotiate': False}}})
    dscp_entries = [{'dscp': d, 'config': {'dscp': d, 'fwd-group': str(tc)}} for d, tc in sorted(AZURE_DSCP_TO_TC.items())]
    return {
        'interfaces': {'interface': interfaces},
        'qos': {
            'dscp-maps': {'dscp-map': [{'name': 'AZURE', 'config': {'name': 'AZURE'},
                                        'dscp-map-entries': {'dscp-map-entry': dscp_entries}}]},
            'interfaces': {'interface': [
                {'interface-id': port, 'config': {'interface-id': port},
                 'interface-maps': {'config': {'dscp-to-forwarding-group': 'AZURE'}}} for port in ports]},
            'pfc-watchdog': {'flex': {'config': {'counter-poll': 'ENABLE'}}},
        },
        'sonic-device-metadata': {'DEVICE_METADATA': {'DEVICE_METADATA_LIST': [{
            'name': 'localhost', 'hostname': hostname, 'hwsku': 'DellEMC-Z9432f-O32', 'platform': 'x86_64-dellemc_z9432f_c3758-r0',
            'mac': '0c:29:ef:00:00:01', 'intf_naming_mode': 'native', 'type': 'LeafRouter'}]}},
    }


def _items(value, *path):
    for name in path[:-1]:
        value = (value or {}).get(name) or {}
    return (value or {}).get(path[-1]) or []


def semantic_errors(tree):
    """What the switch's validation (CVL: leafrefs, ranges across leaves) refuses in a configuration."""
    errors = []
    qos = tree.get('qos') or {}
    ports = set(i['name'] for i in _items(tree, 'interfaces', 'interface'))
    maps = dict((kind, set(m['name'] for m in _items(qos, kind + 's', kind))) for kind in QOS_MAP_KINDS)
    wreds = set(w['name'] for w in _items(qos, 'wred-profiles', 'wred-profile'))
    policies = set(p['name'] for p in _items(qos, 'scheduler-policies', 'scheduler-policy'))
    for intf in _items(qos, 'interfaces', 'interface'):
        name = intf['interface-id']
        if name not in ports and name != 'CPU':
            errors.append('Interface %s does not exist' % name)
        for leaf, kind in INTERFACE_MAPS.items():
            ref = ((intf.get('interface-maps') or {}).get('config') or {}).get(leaf)
            if ref is not None and ref not in maps[kind]:
                errors.append('%s: %s %s does not exist (%s)' % (name, kind, ref, leaf))
        ref = (((intf.get('output') or {}).get('scheduler-policy') or {}).get('config') or {}).get('name')
        if ref is not None and ref not in policies:
            errors.append('%s: scheduler policy %s does not exist' % (name, ref))
        dog = ((intf.get('pfc') or {}).get('watchdog') or {}).get('config') or {}
        poll = (((qos.get('pfc-watchdog') or {}).get('poll') or {}).get('config') or {}).get('poll-interval')
        if dog.get('detection-time') is not None and poll is not None and dog['detection-time'] < poll:
            errors.append('%s: PFC watchdog detection time %s ms is below the poll interval %s ms' % (name, dog['detection-time'], poll))
    for queue in _items(qos, 'queues', 'queue'):
        port, dummy, index = queue['name'].partition(':')
        if port not in ports and port != 'CPU':
            errors.append('Queue %s: interface %s does not exist' % (queue['name'], port))
        elif not index.isdigit() or int(index) > 7:
            errors.append('Queue %s: queue index must be 0-7' % queue['name'])
        ref = ((queue.get('wred') or {}).get('config') or {}).get('wred-profile')
        if ref is not None and ref not in wreds:
            errors.append('Queue %s: WRED profile %s does not exist' % (queue['name'], ref))
    for wred in _items(qos, 'wred-profiles', 'wred-profile'):
        cfg = wred.get('config') or {}
        if cfg.get('green-min-threshold') and cfg.get('green-max-threshold') and \
                int(cfg['green-min-threshold']) > int(cfg['green-max-threshold']):
            errors.append('WRED profile %s: green-min-threshold is above green-max-threshold' % wred['name'])
    for policy in _items(qos, 'scheduler-policies', 'scheduler-policy'):
        for sched in _items(policy, 'schedulers', 'scheduler'):
            if not (0 <= sched['sequence'] <= 47 or sched['sequence'] == 255):
                errors.append('Scheduler policy %s: sequence %s out of range' % (policy['name'], sched['sequence']))
    for intf in _items(tree, 'interfaces', 'interface'):
        if intf['name'] not in ports:
            continue
        kind = re.match(r'[A-Za-z]+', intf['name']).group(0)
        if kind not in ('Ethernet', 'eth', 'Loopback', 'Vlan', 'PortChannel'):
            errors.append('Invalid interface name %s' % intf['name'])
    return errors


class Switch:
    def __init__(self, state_dir, hostname, ports, speed):
        self.state_dir, self.lock = state_dir, threading.RLock()
        self.path = os.path.join(state_dir, 'state.json')
        self.factory_args = (hostname, ports, speed)
        self.log, self.reject, self.reject_left = [], None, None
        if os.path.exists(self.path):
            with open(self.path, encoding='utf-8') as handle:
                state = json.load(handle)
            self.tree, self.factory_ports = state['config'], state['ports']
            self.reject, self.reject_left = state.get('reject'), state.get('reject_left')
        else:
            self.reset()

    @property
    def hostname(self):
        return _items(self.tree, 'sonic-device-metadata', 'DEVICE_METADATA', 'DEVICE_METADATA_LIST')[0]['hostname']

    def reset(self):
        with self.lock:
            hostname, ports, speed = self.factory_args
            self.factory_ports = ports
            self.tree, self.reject, self.reject_left = factory_config(hostname, ports, speed), None, None
            self.save()

    def save(self):
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix='.state.')
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump({'config': self.tree, 'ports': self.factory_ports, 'reject': self.reject, 'reject_left': self.reject_left},
                      handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def commit(self, tree, deleting=False):
        tree = prune(ROOT, tree)
        errors = semantic_errors(tree)
        if errors:
            raise bad(('Entry is in use: ' if deleting else '') + '; '.join(errors[:3]) + ('; ...' if len(errors) > 3 else ''))
        ports_now = set(i['name'] for i in _items(tree, 'interfaces', 'interface'))
        ports_before = set(i['name'] for i in _items(self.tree, 'interfaces', 'interface'))
        physical = set(self.factory_ports) | {'eth0'}
        if (ports_now - ports_before) & physical or (ports_before - ports_now) & physical or (ports_now - ports_before - physical):
            created = sorted((ports_now ^ ports_before))
            raise bad('Physical interfaces cannot be created or deleted: %s' % ', '.join(created))
        self.tree = tree
        self.save()

    # RESTCONF operations ---------------------------------------------------------------

    def get(self, path):
        target = resolve(path)
        with self.lock:
            found = walk(self.tree, target)
            if found is None:
                raise not_found()
            holder, slot = found
            value = holder[slot]
        if value in ({}, [], None):
            raise not_found()
        node = target.node
        member = target.node.mod + ':' + target.name
        if isinstance(node, List):
            entries = [value] if target.key is not None else value
            return {member: dump_value(node, entries, target.parent_mod())}
        return {member: dump_value(node, value, target.parent_mod())}

    def write(self, method, path, body):
        target = resolve(path)
        with self.lock:
            if self.reject and re.search(self.reject, '%s %s %s' % (method, path, json.dumps(body, sort_keys=True))):
                error = bad('Operation rejected by the switch (aifabric-sim fault reject %s)' % self.reject)
                if self.reject_left is not None:
                    self.reject_left -= 1
                    if self.reject_left <= 0:
                        self.reject, self.reject_left = None, None
                    self.save()
                raise error
            tree = copy.deepcopy(self.tree)
            if method == 'DELETE':
                found = walk(tree, target)
                if found is None:
                    if target.key is not None:
                        raise not_found()
                    return 204
                holder, slot = found
                del holder[slot]
                self.commit(tree, deleting=True)
                return 204
            if method == 'POST':
                target = post_target(tree, target, body)
            value = body_value(target, body)
            if method == 'POST' and isinstance(target.node, List):
                have = walk(tree, target)
                keys = set(item[target.node.key] for item in (have[0][have[1]] if have else []))
                if any(item[target.node.key] in keys for item in value):
                    raise RestconfError(409, 'Resource already exists', tag='resource-denied')
            holder, slot = walk(tree, target, create=True)
            if method == 'PUT' or holder[slot] is None or isinstance(target.node, Leaf):
                holder[slot] = value
            else:
                holder[slot] = merge(Cont(target.node.children, target.node.mod) if target.key is not None else target.node,
                                     holder[slot], value)
            self.commit(tree)
            return 201 if method == 'POST' else 204

    def replace_tree(self, body):
        tree = load_value(ROOT, body, '', None)
        with self.lock:
            self.commit(tree)


# --------------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    server_version = 'nginx'
    sys_version = ''
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write('sonic_sim: %s\n' % (fmt % args))

    def _send(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        if status == 401:
            self.send_header('WWW-Authenticate', 'Basic realm="Authorization Required"')
        if data:
            self.send_header('Content-Type', JSON_TYPE)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if data and self.command != 'HEAD':
            self.wfile.write(data)
        self.server.switch.log.append({'method': self.command, 'path': self.path, 'status': status})

    def _authorized(self):
        header = self.headers.get('Authorization', '')
        if header.startswith('Basic '):
            try:
                user, dummy, password = base64.b64decode(header[6:]).decode().partition(':')
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user, self.server.user) and hmac.compare_digest(password, self.server.password)
        return False

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise RestconfError(400, 'Invalid JSON payload: %s' % exc, tag='malformed-message', etype='protocol') from exc

    def _handle(self):
        switch = self.server.switch
        try:
            body = self._body()
            if not self._authorized():
                self._send(401, RestconfError(401, 'Authentication failed', tag='access-denied', etype='protocol').body())
                return
            path = urlsplit(self.path).path
            if path.startswith('/aifabric-sim/'):
                self._hook(path[len('/aifabric-sim/'):], body)
                return
            if not (path == RESTCONF_DATA or path.startswith(RESTCONF_DATA + '/')):
                raise RestconfError(404, 'Resource not found')
            data_path = path[len(RESTCONF_DATA):]
            if self.command == 'GET':
                self._send(200, switch.get(data_path))
                return
            if self.command in ('PATCH', 'PUT', 'POST') and body is None:
                raise bad('Invalid payload: a %s needs a body' % self.command)
            if self.command == 'DELETE' and body is not None:
                raise bad('Invalid payload: a DELETE has no body')
            self._send(switch.write(self.command, data_path, body))
        except RestconfError as exc:
            self._send(exc.status, exc.body())

    def _hook(self, what, body):
        switch = self.server.switch
        if what == 'state' and self.command == 'GET':
            self._send(200, {'config': dump_value(ROOT, switch.tree, None), 'ports': switch.factory_ports, 'reject': switch.reject})
        elif what == 'state' and self.command == 'PUT':
            switch.replace_tree((body or {}).get('config', body))
            self._send(204)
        elif what == 'reset' and self.command == 'POST':
            switch.reset()
            switch.log.clear()
            self._send(204)
        elif what == 'log' and self.command == 'GET':
            self._send(200, {'log': switch.log})
        elif what == 'log' and self.command == 'DELETE':
            switch.log.clear()
            self._send(204)
        elif what == 'fault' and self.command == 'POST' and isinstance(body, dict):
            with switch.lock:
                if body.get('clear'):
                    switch.reject, switch.reject_left = None, None
                elif isinstance(body.get('reject'), str):
                    try:
                        re.compile(body['reject'])
                    except re.error as exc:
                        raise bad('fault: invalid regular expression: %s' % exc) from exc
                    count = body.get('count')
                    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
                        raise bad('fault: count must be a positive integer')
                    switch.reject, switch.reject_left = body['reject'], count
                else:
                    raise bad('fault: {"reject": REGEX} or {"clear": true}')
                switch.save()
            self._send(200, {'reject': switch.reject, 'count': switch.reject_left})
        else:
            raise RestconfError(404, 'Resource not found')

    do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    parser = argparse.ArgumentParser(prog='aifabric-sonic-sim', description=__doc__.splitlines()[0])
    parser.add_argument('--listen', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8443)
    parser.add_argument('--cert', required=True, help='TLS certificate (PEM)')
    parser.add_argument('--key', required=True, help='TLS private key (PEM)')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--hostname', default='sonic', help='host name of a fresh switch (and of a factory reset)')
    parser.add_argument('--ports', default='Ethernet0-248/8', help='front-panel ports: FIRST-LAST/STEP or a comma list')
    parser.add_argument('--speed', default='SPEED_400GB')
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', required=True)
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    os.makedirs(args.state_dir, exist_ok=True)
    switch = Switch(args.state_dir, args.hostname, port_list(args.ports), args.speed)
    server = Server((args.listen, args.port), Handler)
    server.switch, server.user, server.password, server.verbose = switch, args.user, args.password, args.verbose
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print('sonic_sim: %s listening on %s:%d (RESTCONF, Dell Enterprise SONiC %s)' % (
        switch.hostname, args.listen, server.server_address[1], VERSION), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
