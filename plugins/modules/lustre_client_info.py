#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: lustre_client_info
short_description: Read the LNet and Lustre client state of a host and judge its health
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Runs the Lustre 2.12 to 2.16 client tools and parses their output: C(lnetctl net show -v 3) (the local LNet
    NIs, their status and health value), C(lnetctl ping) of every MGS NID in O(mgs_nids),
    C(lctl get_param osc.*.state mdc.*.state) (the import state of every OST and MDT),
    C(lctl get_param health_check), C(lfs df) and C(lfs check servers)."
  - "Every command runs under C(timeout) (GNU coreutils) with O(command_timeout) seconds, so a hung client
    (an unreachable server, a stuck mount) does not hang the play: a command that is killed becomes a reason that
    names it."
  - "Returns one verdict, RV(healthy), and RV(reasons): one per problem an operator can act on, naming the NI, NID,
    target or mount point and saying what to do, for example
    \"lustre-OST0002 (osc lustre-OST0002-osc-ffff8a6b3c0e1000): import state DISCONN since 2024-06-04T16:00:05Z,
    expected FULL or IDLE: ...\"."
  - "Problems: LNet down or without a network besides C(lo); an NI whose status is not C(up) or whose health value is
    below 1000 (C(lo) is ignored); an MGS NID that does not answer C(lnetctl ping); an OST or MDT import not
    C(FULL) or C(IDLE); C(health_check) not C(healthy) (C(NOT HEALTHY), C(LBUG)); a mount point of
    O(expected_mounts) missing from C(lfs df); a target that C(lfs df) shows inactive or failing; a server that
    C(lfs check servers) does not report active."
  - Never changes anything on the host.
options:
  mgs_nids:
    description:
      - MGS NIDs to C(lnetctl ping), one per element, for example V(10.0.0.1@o2ib); none when empty.
      - Each result is in RV(peers); an NID that does not answer makes the host unhealthy.
    type: list
    elements: str
    default: []
  expected_mounts:
    description:
      - Mount points that must be Lustre filesystems listed by C(lfs df), for example V(/mnt/lustre); not checked
        when empty.
    type: list
    elements: str
    default: []
  command_timeout:
    description:
      - Seconds each command may run before C(timeout) kills it (C(SIGTERM), then C(SIGKILL) 2 seconds later).
      - A command that is killed is reported in RV(reasons) and its part of the result is left empty.
    type: int
    default: 20
  lnetctl_path:
    description:
      - The C(lnetctl) program; a name is looked up in E(PATH) and the usual system directories, a path is used as it
        is. The module fails when it is not found.
    type: str
    default: lnetctl
  lctl_path:
    description:
      - The C(lctl) program; a name is looked up in E(PATH) and the usual system directories, a path is used as it is.
        The module fails when it is not found.
    type: str
    default: lctl
  lfs_path:
    description:
      - The C(lfs) program; a name is looked up in E(PATH) and the usual system directories, a path is used as it is.
        The module fails when it is not found.
    type: str
    default: lfs
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - "C(lnetctl net show) prints the C(health stats) of an NI only from verbosity 2, so the module runs
    C(lnetctl net show -v 3); without them (older tools) the health value is not checked."
  - "C(timeout) cannot end a process stuck in uninterruptible sleep in the kernel; Lustre waits are mostly
    interruptible, but such a command would still hold the task until the kernel call returns."
  - Needs root to read every parameter and to run C(lnetctl); run it with C(become).
seealso:
  - module: aifabric.cluster.rdma_link_info
'''

EXAMPLES = r'''
- name: Check the Lustre client of a GPU node
  aifabric.cluster.lustre_client_info:
    mgs_nids:
      - 10.0.0.1@o2ib
      - 10.0.0.2@o2ib
    expected_mounts:
      - /mnt/lustre
  become: true
  register: lustre

- name: Stop when the client is not healthy
  ansible.builtin.assert:
    that: lustre.healthy
    fail_msg: "{{ lustre.reasons }}"

- name: A node with slow servers, tools outside PATH
  aifabric.cluster.lustre_client_info:
    command_timeout: 60
    lfs_path: /opt/lustre/bin/lfs
    lctl_path: /opt/lustre/sbin/lctl
    lnetctl_path: /opt/lustre/sbin/lnetctl
  become: true
  register: lustre
'''

RETURN = r'''
healthy:
  description: V(true) when RV(reasons) is empty.
  returned: always
  type: bool
  sample: false
reasons:
  description: What is wrong and what to do, one string per problem, naming the NI, NID, target or mount point.
  returned: always
  type: list
  elements: str
  sample:
    - "MGS NID 10.0.0.2@o2ib does not answer lnetctl ping (errno -110, failed to ping 10.0.0.2@o2ib: Connection timed out): ..."
    - "lustre-OST0002 (osc lustre-OST0002-osc-ffff8a6b3c0e1000): import state DISCONN since 2024-06-04T16:00:05Z, ..."
lnet_up:
  description: V(true) when LNet answered with its networks, V(false) when it is down, V(null) when unknown.
  returned: always
  type: bool
  sample: true
nis:
  description: The local LNet NIs (C(lo) included), from C(lnetctl net show -v 3).
  returned: always
  type: list
  elements: dict
  contains:
    net:
      description: LNet network.
      type: str
      sample: o2ib
    nid:
      description: NID of the NI.
      type: str
      sample: 10.0.1.11@o2ib
    status:
      description: C(up) or C(down).
      type: str
      sample: up
    interfaces:
      description: Network interfaces of the NI.
      type: list
      elements: str
      sample: [ib0]
    health_value:
      description: LNet health value, 1000 when healthy; V(null) when C(health stats) were not printed.
      type: int
      sample: 1000
    health_stats:
      description: The C(health stats) counters, keys with underscores (C(health_value), C(timeouts), C(no_route)...).
      type: dict
      sample: {health_value: 1000, dropped: 0, timeouts: 0}
    statistics:
      description: C(send_count), C(recv_count) and C(drop_count) of the NI, V(null) when not printed.
      type: dict
      sample: {send_count: 48211, recv_count: 47990, drop_count: 0}
peers:
  description: One C(lnetctl ping) result per NID of O(mgs_nids).
  returned: always
  type: list
  elements: dict
  contains:
    nid:
      description: The NID pinged.
      type: str
      sample: 10.0.0.1@o2ib
    reachable:
      description: V(true) when the NID answered.
      type: bool
      sample: true
    primary_nid:
      description: Primary NID of the peer that answered.
      type: str
      sample: 10.0.0.1@o2ib
    multi_rail:
      description: Whether the peer is Multi-Rail, V(null) when it did not answer.
      type: bool
      sample: true
    peer_nis:
      description: NIDs the peer announced.
      type: list
      elements: str
      sample: [10.0.1.1@o2ib, 10.0.2.1@o2ib]
    errno:
      description: The C(errno) lnetctl printed for a failed ping.
      type: int
      sample: -110
    error:
      description: Why the ping failed (lnetctl C(descr), or the timeout).
      type: str
      sample: "failed to ping 10.0.0.2@o2ib: Connection timed out"
    timed_out:
      description: V(true) when C(lnetctl ping) was killed after O(command_timeout) seconds.
      type: bool
      sample: false
targets:
  description: Import state of every OSC and MDC device, from C(lctl get_param osc.*.state mdc.*.state).
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The client device.
      type: str
      sample: lustre-OST0002-osc-ffff8a6b3c0e1000
    type:
      description: C(osc) or C(mdc).
      type: str
      sample: osc
    fsname:
      description: Filesystem name.
      type: str
      sample: lustre
    target:
      description: Target name.
      type: str
      sample: lustre-OST0002
    kind:
      description: C(OST) or C(MDT).
      type: str
      sample: OST
    index:
      description: Target index.
      type: int
      sample: 2
    state:
      description: Current import state (C(FULL), C(IDLE), C(DISCONN), C(CONNECTING), C(EVICTED)...), V(null) when unreadable.
      type: str
      sample: DISCONN
    since:
      description: Epoch seconds since which the state has not changed, from the state history.
      type: int
      sample: 1717516805
    since_utc:
      description: RV(targets[].since) as UTC time.
      type: str
      sample: "2024-06-04T16:00:05Z"
    history:
      description: The state history, C([epoch, STATE]) pairs, oldest first.
      type: list
      elements: list
      sample: [[1717430400, CONNECTING], [1717430400, FULL]]
    healthy:
      description: V(true) for C(FULL) and C(IDLE).
      type: bool
      sample: false
    error:
      description: Why the state could not be read.
      type: str
      sample: null
health_check:
  description: "C(lctl get_param health_check): C(status) (C(healthy), C(NOT HEALTHY), C(LBUG)), C(healthy),
    C(unhealthy_devices) and C(raw); V(null) when not read."
  returned: always
  type: dict
  sample: {status: healthy, healthy: true, unhealthy_devices: [], raw: healthy}
df:
  description: One record per filesystem in C(lfs df).
  returned: always
  type: list
  elements: dict
  contains:
    mount:
      description: Mount point.
      type: str
      sample: /mnt/lustre
    fsname:
      description: Filesystem name.
      type: str
      sample: lustre
    unit:
      description: Header of the size column, C(1K-blocks) for C(lfs df).
      type: str
      sample: 1K-blocks
    human:
      description: V(true) for C(lfs df -h) output, whose sizes are rounded.
      type: bool
      sample: false
    summary:
      description: C(total), C(used), C(available) (bytes) and C(use_percent) of the C(filesystem_summary) line.
      type: dict
      sample: {total: 64000003932160, used: 22400001114112, available: 38400002621440, use_percent: 37}
    targets:
      description:
        - "One record per MDT and OST row: C(uuid), C(target), C(kind), C(index), C(mount), C(total), C(used),
          C(available) (bytes), C(use_percent), C(flags) (C(D) degraded, C(R) read-only, C(N) no precreate,
          C(S) out of space, C(I) out of inodes), C(status) (C(ok), C(inactive), C(error)) and C(error)."
      type: list
      elements: dict
      sample: [{uuid: OST0002, target: lustre-OST0002, kind: OST, index: 2, status: inactive, error: inactive device}]
servers:
  description: One record per device in C(lfs check servers).
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The client device (OSC, MDC or MGC).
      type: str
      sample: lustre-OST0002-osc-ffff8a6b3c0e1000
    target:
      description: Target name, or the MGC name.
      type: str
      sample: lustre-OST0002
    kind:
      description: C(OST), C(MDT) or C(MGS).
      type: str
      sample: OST
    fsname:
      description: Filesystem name, V(null) for an MGC.
      type: str
      sample: lustre
    active:
      description: V(true) when reported active.
      type: bool
      sample: false
    status:
      description: C(active), C(inactive) or C(error).
      type: str
      sample: error
    error:
      description: The error printed for the device.
      type: str
      sample: Resource temporarily unavailable (11)
    errno:
      description: Negative errno of the error.
      type: int
      sample: -11
commands:
  description: Every command run, with C(rc) and C(timed_out).
  returned: always
  type: list
  elements: dict
  sample: [{command: lfs df, rc: 0, timed_out: false}]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.lustre_client import (
    evaluate, parse_check_servers, parse_health_check, parse_import_states, parse_lfs_df, parse_net_show, parse_ping,
)

ENV = dict(LANG='C', LC_ALL='C')
KILL_AFTER = 2
TIMEOUT_RCS = (124, 137)


class Runner(object):
    """Runs the tools under ``timeout`` and keeps a record of every command."""

    def __init__(self, module, timeout_bin, seconds):
        self.module = module
        self.timeout_bin = timeout_bin
        self.seconds = seconds
        self.commands = []

    def run(self, argv, label):
        """(rc, stdout, stderr, timed_out) of ``argv``; ``label`` is how reasons name the command."""
        cmd = [self.timeout_bin, '-k', str(KILL_AFTER), str(self.seconds)] + list(argv)
        rc, out, err = self.module.run_command(cmd, environ_update=ENV)
        timed_out = rc in TIMEOUT_RCS
        self.commands.append({'command': label, 'rc': rc, 'timed_out': timed_out})
        return rc, out or '', err or '', timed_out

    def failure(self, label, rc, out, err, timed_out):
        text = ' '.join((err or out or '').split())
        return {'command': label, 'timed_out': timed_out, 'timeout': self.seconds, 'rc': rc, 'msg': text[:500] or None}


def find_tool(module, option):
    value = module.params[option]
    if os.sep in value:
        if not (os.path.isfile(value) and os.access(value, os.X_OK)):
            module.fail_json(msg='%s: %s is not an executable file' % (option, value))
        return value
    path = module.get_bin_path(value)
    if not path:
        module.fail_json(msg='%s not found in PATH or the system directories: install the Lustre client tools '
                             '(lustre-client, lustre-client-utils) or set %s' % (value, option))
    return path


def read_lnet(runner, lnetctl, failures):
    label = 'lnetctl net show -v 3'
    rc, out, err, timed_out = runner.run([lnetctl, 'net', 'show', '-v', '3'], label)
    if timed_out:
        failures.append(runner.failure(label, rc, out, err, timed_out))
        return None
    net = parse_net_show(out, err)
    if rc != 0 and not net['errors'] and not net['nis']:
        failures.append(runner.failure(label, rc, out, err, timed_out))
        return None
    return net


def read_pings(runner, lnetctl, nids):
    peers = []
    for nid in nids:
        rc, out, err, timed_out = runner.run([lnetctl, 'ping', nid], 'lnetctl ping %s' % nid)
        if timed_out:
            peer = {'nid': nid, 'reachable': False, 'primary_nid': None, 'multi_rail': None, 'peer_nis': [],
                    'errno': None, 'error': 'no answer within %d s' % runner.seconds}
        else:
            peer = parse_ping(out, err, nid=nid)
            if peer['reachable'] and rc != 0:
                peer['reachable'] = False
                peer['error'] = 'lnetctl ping exited with rc %d' % rc
        peer['timed_out'] = timed_out
        peers.append(peer)
    return peers


def read_states(runner, lctl, failures):
    label = 'lctl get_param osc.*.state mdc.*.state'
    rc, out, err, timed_out = runner.run([lctl, 'get_param', 'osc.*.state', 'mdc.*.state'], label)
    if timed_out:
        failures.append(runner.failure(label, rc, out, err, timed_out))
        return None
    states = parse_import_states(out, err)
    # no osc/mdc device at all ("param_path ... No such file or directory") is no fault: nothing is mounted
    others = [line for line in states['errors'] if 'No such file or directory' not in line]
    if others and not states['targets']:
        failures.append(runner.failure(label, rc, out, '\n'.join(others), timed_out))
    return states


def read_health(runner, lctl, failures):
    label = 'lctl get_param health_check'
    rc, out, err, timed_out = runner.run([lctl, 'get_param', 'health_check'], label)
    health = None if timed_out else parse_health_check(out)
    if health is None:
        failures.append(runner.failure(label, rc, out, err, timed_out))
    return health


def read_df(runner, lfs, failures):
    label = 'lfs df'
    rc, out, err, timed_out = runner.run([lfs, 'df'], label)
    if timed_out:
        failures.append(runner.failure(label, rc, out, err, timed_out))
        return None
    df = parse_lfs_df(out, err)
    if rc != 0 and not df['filesystems']:
        failures.append(runner.failure(label, rc, out, err, timed_out))
    return df


def read_servers(runner, lfs, failures):
    label = 'lfs check servers'
    rc, out, err, timed_out = runner.run([lfs, 'check', 'servers'], label)
    if timed_out:
        failures.append(runner.failure(label, rc, out, err, timed_out))
        return None
    return parse_check_servers(out, err)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mgs_nids=dict(type='list', elements='str', default=[]),
            expected_mounts=dict(type='list', elements='str', default=[]),
            command_timeout=dict(type='int', default=20),
            lnetctl_path=dict(type='str', default='lnetctl'),
            lctl_path=dict(type='str', default='lctl'),
            lfs_path=dict(type='str', default='lfs'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['command_timeout'] < 1:
        module.fail_json(msg='command_timeout must be 1 or more, got %d' % params['command_timeout'])
    mgs_nids = [nid.strip() for nid in params['mgs_nids'] if nid and nid.strip()]
    for nid in mgs_nids:
        if '@' not in nid:
            module.fail_json(msg='mgs_nids: %r is not an LNet NID (address@net, for example 10.0.0.1@o2ib)' % nid)
    expected_mounts = [path for path in params['expected_mounts'] if path]
    for path in expected_mounts:
        if not path.startswith('/'):
            module.fail_json(msg='expected_mounts: %r is not an absolute mount point' % path)

    lnetctl = find_tool(module, 'lnetctl_path')
    lctl = find_tool(module, 'lctl_path')
    lfs = find_tool(module, 'lfs_path')
    timeout_bin = module.get_bin_path('timeout')
    if not timeout_bin:
        module.fail_json(msg='timeout (GNU coreutils) not found: it bounds every Lustre command to command_timeout seconds')

    runner = Runner(module, timeout_bin, params['command_timeout'])
    failures = []
    net = read_lnet(runner, lnetctl, failures)
    peers = read_pings(runner, lnetctl, mgs_nids)
    states = read_states(runner, lctl, failures)
    health = read_health(runner, lctl, failures)
    df = read_df(runner, lfs, failures)
    servers = read_servers(runner, lfs, failures)

    verdict = evaluate(net=net, pings=peers, states=states, health=health, df=df, servers=servers,
                       mgs_nids=mgs_nids, expected_mounts=expected_mounts, command_failures=failures)
    module.exit_json(
        changed=False,
        healthy=verdict['healthy'],
        reasons=verdict['reasons'],
        lnet_up=verdict['lnet_up'],
        nis=net['nis'] if net else [],
        peers=peers,
        targets=states['targets'] if states else [],
        health_check=health,
        df=df['filesystems'] if df else [],
        servers=servers['servers'] if servers else [],
        commands=runner.commands,
    )


if __name__ == '__main__':
    main()
