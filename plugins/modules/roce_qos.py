#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: roce_qos
short_description: Set the lossless RoCE QoS of an NVIDIA ConnectX port (trust, PFC, DSCP map, ECN, rdma_cm, pause)
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - Owns the host side of a lossless RoCEv2 fabric on one ConnectX netdev; reads the current state back,
    changes only what differs and reports it.
  - Priority trust state, PFC-enabled priorities and DSCP to priority entries through C(mlnx_qos) (DOCA-OFED/MLNX_OFED
    C(mlnx-tools)), read from its C(mlnx_qos -i <netdev>) report.
  - ECN (DCQCN) per priority and the CNP DSCP/802.1p priority through the mlx5 sysfs files
    C(<sysfs_root>/class/net/<netdev>/ecn/roce_np/) and C(roce_rp/).
  - The rdma_cm defaults (C(default_roce_mode), C(default_roce_tos)) through configfs
    C(<configfs_root>/rdma_cm/<rdma_device>/ports/<port>/); the device group is created with C(mkdir) when absent,
    as C(cma_roce_mode) and C(cma_roce_tos) do, and left in place.
  - Global (802.3x) pause through C(ethtool -a) and C(ethtool -A <netdev> rx off tx off).
  - O(pfc_priorities), O(dscp2prio), O(ecn_priorities), O(cnp_dscp), O(cnp_priority) and O(roce_tos) are not
    managed when unset. See C(docs/roce-host.md).
options:
  netdev:
    description: The ConnectX netdev (Ethernet interface) of the RDMA port, for example C(ens1f0np0).
    type: str
    required: true
  trust:
    description:
      - Priority trust state. V(dscp) classifies received traffic by DSCP (routed RoCEv2 fabrics), V(pcp) by the VLAN 802.1p bits.
      - Switching to V(dscp) installs the firmware DSCP map (DSCP n to priority n>>3) before O(dscp2prio) is applied.
    type: str
    choices: [dscp, pcp]
    default: dscp
  pfc_priorities:
    description:
      - The priorities with PFC enabled, exactly; all others get PFC disabled. V([]) disables PFC.
      - Usually the one lossless RoCE priority, V([3]).
    type: list
    elements: int
  dscp2prio:
    description:
      - "DSCP to priority entries, for example V({26: 3, 48: 6}). Only these DSCPs are managed; the others keep
        their mapping (the firmware map n>>3 after a switch to trust dscp)."
      - Needs O(trust=dscp) (a DSCP entry switches the port to trust dscp).
    type: dict
  ecn_priorities:
    description:
      - The priorities with ECN enabled, exactly, for both the notification point (C(roce_np), marks CNPs) and the
        reaction point (C(roce_rp), slows down on CNPs); the other priorities get ECN disabled.
    type: list
    elements: int
  cnp_dscp:
    description: DSCP of the congestion notification packets the port sends (C(ecn/roce_np/cnp_dscp)), usually V(48).
    type: int
  cnp_priority:
    description: 802.1p priority of the CNPs (C(ecn/roce_np/cnp_802p_prio)), usually V(6).
    type: int
  roce_mode:
    description: Default RoCE mode of rdma_cm connections (C(default_roce_mode)).
    type: str
    choices: ['RoCE v2', 'IB/RoCE v1']
    default: RoCE v2
  roce_tos:
    description:
      - Default IP ToS byte of rdma_cm connections (C(default_roce_tos)), for example V(106) (DSCP 26 plus ECT(0)).
      - It only affects rdma_cm applications; NCCL over verbs uses C(NCCL_IB_TC).
    type: int
  rdma_device:
    description:
      - The RDMA device of O(netdev), for example C(mlx5_0).
      - By default found from the GID table in sysfs (C(class/infiniband/*/ports/*/gid_attrs/ndevs/*)), then from
        C(ibdev2netdev).
    type: str
  global_pause:
    description:
      - Global 802.3x pause (RX and TX); V(false) turns it off, as PFC requires.
      - A device without pause parameters (C(ethtool -a) fails with C(Operation not supported)) counts as off;
        with V(true) the module then fails.
    type: bool
    default: false
  sysfs_root:
    description: Where sysfs is mounted.
    type: path
    default: /sys
  configfs_root:
    description: Where configfs is mounted.
    type: path
    default: /sys/kernel/config
extends_documentation_fragment:
  - aifabric.cluster.attributes.change
notes:
  - Needs C(mlnx_qos) (DOCA-OFED or MLNX_OFED C(mlnx-tools)) and C(ethtool) in E(PATH), and root.
  - In check mode a missing rdma_cm configfs group is not created, so its values are reported as unknown (V(null))
    and as a change.
  - mlx5 settings do not survive a driver reload or a reboot; run the module at every boot (or from a boot unit).
seealso:
  - module: aifabric.cluster.rdma_link_info
'''

EXAMPLES = r'''
- name: Lossless RoCEv2 on the fabric port (DSCP 26 on priority 3, CNPs on DSCP 48 / priority 6)
  aifabric.cluster.roce_qos:
    netdev: ens1f0np0
    trust: dscp
    pfc_priorities: [3]
    dscp2prio: {26: 3, 48: 6}
    ecn_priorities: [3]
    cnp_dscp: 48
    cnp_priority: 6
    roce_mode: RoCE v2
    roce_tos: 106
    global_pause: false

- name: Only trust, PFC, rdma_cm RoCE v2 and pause off; leave ECN and the DSCP map alone
  aifabric.cluster.roce_qos:
    netdev: ens1f0np0
    pfc_priorities: [3]

- name: In the lab, against the simulated sysfs/configfs trees
  aifabric.cluster.roce_qos:
    netdev: eth1
    pfc_priorities: [3]
    ecn_priorities: [3]
    sysfs_root: /var/lib/aifabric-sim/sys
    configfs_root: /var/lib/aifabric-sim/configfs
'''

RETURN = r'''
rdma_device:
  description: The RDMA device of O(netdev).
  returned: success
  type: str
  sample: mlx5_0
rdma_port:
  description: Its port number.
  returned: success
  type: int
  sample: 1
commands:
  description: The commands and file writes made (in check mode, those that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["mlnx_qos -i ens1f0np0 --trust dscp", "write /sys/class/net/ens1f0np0/ecn/roce_np/enable/0 = 0"]
state:
  description:
    - The managed state after the run (predicted in check mode). Unmanaged items are absent.
    - C(dscp2prio) has the managed DSCPs only (as strings), V(null) for a DSCP without entry.
    - C(global_pause) is C({rx, tx}) or the string V(unsupported).
  returned: success
  type: dict
  sample: {trust: dscp, pfc_priorities: [3], dscp2prio: {'26': 3, '48': 6}, ecn_np_priorities: [3],
           ecn_rp_priorities: [3], cnp_dscp: 48, cnp_priority: 6, roce_mode: RoCE v2, roce_tos: 106,
           global_pause: {rx: false, tx: false}}
qos:
  description: The full C(mlnx_qos -i) report before the run, parsed (trust, dscp2prio, pfc, buffers, TCs).
  returned: success
  type: dict
diff:
  description: C(before) and C(after) of RV(state) (diff mode).
  returned: changed and diff mode
  type: dict
'''

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.connectx_qos import (
    ParseError, ROCE_MODES, ecn_enabled, ethtool_unsupported, parse_ethtool_pause, parse_mlnx_qos, plan_mlnx_qos,
)

CONFIGFS_WAIT_S = 10.0  # configfs creates a group's attributes on mkdir; tolerate a slow one (a loaded node)


class RoceQos(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.netdev = self.p['netdev']
        self.commands = []
        self.env = dict(LANG='C', LC_ALL='C')

    def fail(self, msg, **kw):
        self.module.fail_json(msg=msg, commands=self.commands, **kw)

    def run(self, args, change=False):
        if change:
            self.commands.append(' '.join([os.path.basename(args[0])] + args[1:]))
            if self.module.check_mode:
                return 0, '', ''
        return self.module.run_command(args, environ_update=self.env)

    # ---------------------------------------------------------- mlnx_qos

    def qos_report(self, mlnx_qos):
        rc, out, err = self.run([mlnx_qos, '-i', self.netdev])
        if rc != 0:
            self.fail('mlnx_qos -i %s failed (rc %d): %s' % (self.netdev, rc, (out + err).strip()),
                      rc=rc, stdout=out, stderr=err)
        try:
            return parse_mlnx_qos(out)
        except ParseError as exc:
            self.fail('cannot parse mlnx_qos -i %s: %s' % (self.netdev, exc), stdout=out)

    # ---------------------------------------------------------- sysfs helpers

    def read_file(self, path):
        try:
            with open(path) as f:
                return f.read().strip()
        except (IOError, OSError) as exc:
            self.fail('cannot read %s: %s' % (path, exc))

    def write_file(self, path, value):
        self.commands.append('write %s = %s' % (path, value))
        if self.module.check_mode:
            return
        try:
            with open(path, 'w') as f:
                f.write('%s\n' % value)
        except (IOError, OSError) as exc:
            self.fail('cannot write %s to %s: %s' % (value, path, exc))

    def find_rdma_device(self):
        """(device, port) of the netdev from the GID table's ndevs, else from ibdev2netdev."""
        ib = os.path.join(self.p['sysfs_root'], 'class', 'infiniband')
        wanted = self.p['rdma_device']
        for path in sorted(glob.glob(os.path.join(ib, '*', 'ports', '*', 'gid_attrs', 'ndevs', '*'))):
            parts = path[len(ib) + 1:].split(os.sep)
            dev, port = parts[0], parts[2]
            if wanted and dev != wanted:
                continue
            try:
                with open(path) as f:
                    if f.read().strip() == self.netdev:
                        return dev, int(port)
            except (IOError, OSError, ValueError):
                continue
        if wanted:
            return wanted, 1
        tool = self.module.get_bin_path('ibdev2netdev')
        if tool:
            rc, out, err = self.run([tool])
            for line in out.splitlines():
                f = line.split()
                # mlx5_0 port 1 ==> ens1f0np0 (Up)
                if len(f) >= 5 and f[1] == 'port' and f[3] == '==>' and f[4] == self.netdev:
                    return f[0], int(f[2])
        return None, None

    # ---------------------------------------------------------- ECN

    def ecn(self, state_before, state_after):
        p = self.p
        if p['ecn_priorities'] is None and p['cnp_dscp'] is None and p['cnp_priority'] is None:
            return
        ecn = os.path.join(p['sysfs_root'], 'class', 'net', self.netdev, 'ecn')
        if not os.path.isdir(ecn):
            self.fail('%s does not exist: ECN needs the mlx5 driver of DOCA-OFED/MLNX_OFED on a ConnectX netdev' % ecn)
        if p['ecn_priorities'] is not None:
            wanted = set(p['ecn_priorities'])
            for kind, key in (('roce_np', 'ecn_np_priorities'), ('roce_rp', 'ecn_rp_priorities')):
                values = dict((prio, self.read_file(os.path.join(ecn, kind, 'enable', str(prio)))) for prio in range(8))
                state_before[key] = ecn_enabled(values)
                for prio in range(8):
                    want = '1' if prio in wanted else '0'
                    if values[prio] != want:
                        self.write_file(os.path.join(ecn, kind, 'enable', str(prio)), want)
                state_after[key] = sorted(wanted)
        for opt, name, key in (('cnp_dscp', 'cnp_dscp', 'cnp_dscp'), ('cnp_priority', 'cnp_802p_prio', 'cnp_priority')):
            if p[opt] is None:
                continue
            path = os.path.join(ecn, 'roce_np', name)
            current = self.read_file(path)
            state_before[key] = int(current) if current.isdigit() else current
            if current != str(p[opt]):
                self.write_file(path, p[opt])
            state_after[key] = p[opt]

    # ---------------------------------------------------------- rdma_cm configfs

    def rdma_cm(self, dev, port, state_before, state_after):
        p = self.p
        cm = os.path.join(p['configfs_root'], 'rdma_cm')
        if not os.path.isdir(cm):
            self.fail('%s does not exist: rdma_cm is not loaded or configfs is not mounted' % cm)
        group = os.path.join(cm, dev)
        pdir = os.path.join(group, 'ports', str(port))
        wanted = {'default_roce_mode': ('roce_mode', p['roce_mode'])}
        if p['roce_tos'] is not None:
            wanted['default_roce_tos'] = ('roce_tos', str(p['roce_tos']))
        if not os.path.isdir(group):
            self.commands.append('mkdir %s' % group)
            if self.module.check_mode:
                for attr, (key, value) in wanted.items():
                    state_before[key] = None
                    self.commands.append('write %s = %s' % (os.path.join(pdir, attr), value))
                    state_after[key] = int(value) if key == 'roce_tos' else value
                return
            try:
                os.mkdir(group)
            except OSError as exc:
                self.fail('cannot create %s: %s' % (group, exc))
        deadline = time.time() + CONFIGFS_WAIT_S
        while not all(os.path.exists(os.path.join(pdir, a)) for a in wanted) and time.time() < deadline:
            time.sleep(0.05)
        for attr, (key, value) in sorted(wanted.items()):
            path = os.path.join(pdir, attr)
            if not os.path.exists(path):
                self.fail('Device %s port %s does not exist (no %s)' % (dev, port, path))
            current = self.read_file(path)
            state_before[key] = int(current) if key == 'roce_tos' and current.isdigit() else current
            if current != value:
                self.write_file(path, value)
            state_after[key] = int(value) if key == 'roce_tos' else value

    # ---------------------------------------------------------- global pause

    def pause(self, state_before, state_after):
        want = self.p['global_pause']
        ethtool = self.module.get_bin_path('ethtool', required=True)
        rc, out, err = self.run([ethtool, '-a', self.netdev])
        if rc != 0:
            if ethtool_unsupported(err + out):
                state_before['global_pause'] = state_after['global_pause'] = 'unsupported'
                if want:
                    self.fail('%s has no pause parameters (ethtool -a: %s); global_pause=true is impossible'
                              % (self.netdev, (err or out).strip()))
                return
            self.fail('ethtool -a %s failed (rc %d): %s' % (self.netdev, rc, (err or out).strip()),
                      rc=rc, stdout=out, stderr=err)
        try:
            cur = parse_ethtool_pause(out)
        except ParseError as exc:
            self.fail('cannot parse ethtool -a %s: %s' % (self.netdev, exc), stdout=out)
        state_before['global_pause'] = {'rx': cur['rx'], 'tx': cur['tx']}
        if cur['rx'] != want or cur['tx'] != want:
            v = 'on' if want else 'off'
            rc, out, err = self.run([ethtool, '-A', self.netdev, 'rx', v, 'tx', v], change=True)
            if rc != 0:
                self.fail('ethtool -A %s rx %s tx %s failed (rc %d): %s' % (self.netdev, v, v, rc, (err or out).strip()),
                          rc=rc, stdout=out, stderr=err)
        state_after['global_pause'] = {'rx': want, 'tx': want}

    # ---------------------------------------------------------- all

    def apply(self):
        p = self.p
        dscp2prio = None
        if p['dscp2prio'] is not None:
            dscp2prio = {}
            for k, v in p['dscp2prio'].items():
                try:
                    dscp, prio = int(k), int(v)
                except (TypeError, ValueError):
                    self.fail('dscp2prio: %r: %r is not an integer mapping' % (k, v))
                if not 0 <= dscp <= 63 or not 0 <= prio <= 7:
                    self.fail('dscp2prio: DSCP must be 0-63 and priority 0-7, got %s: %s' % (k, v))
                dscp2prio[dscp] = prio
            if dscp2prio and p['trust'] == 'pcp':
                self.fail('dscp2prio needs trust=dscp (a DSCP entry switches the port to trust dscp)')
        for opt in ('pfc_priorities', 'ecn_priorities'):
            if p[opt] is not None and any(not 0 <= x <= 7 for x in p[opt]):
                self.fail('%s: priorities are 0-7, got %s' % (opt, p[opt]))
        for opt, hi in (('cnp_dscp', 63), ('cnp_priority', 7), ('roce_tos', 255)):
            if p[opt] is not None and not 0 <= p[opt] <= hi:
                self.fail('%s must be 0-%d, got %d' % (opt, hi, p[opt]))

        mlnx_qos = self.module.get_bin_path('mlnx_qos', required=True)
        qos = self.qos_report(mlnx_qos)
        before = {'trust': qos['trust'], 'pfc_priorities': qos['pfc_priorities']}
        if dscp2prio is not None:
            before['dscp2prio'] = dict((str(d), qos['dscp2prio'].get(d)) for d in sorted(dscp2prio))
        steps, predicted = plan_mlnx_qos(qos, p['trust'], p['pfc_priorities'], dscp2prio)
        for args in steps:
            rc, out, err = self.run([mlnx_qos, '-i', self.netdev] + args, change=True)
            if rc != 0:
                self.fail('mlnx_qos -i %s %s failed (rc %d): %s' % (self.netdev, ' '.join(args), rc, (out + err).strip()),
                          rc=rc, stdout=out, stderr=err)
        after = {'trust': predicted['trust'], 'pfc_priorities': predicted['pfc_priorities']}
        if dscp2prio is not None:
            after['dscp2prio'] = dict((str(d), predicted['dscp2prio'].get(d)) for d in sorted(dscp2prio))
        if steps and not self.module.check_mode:
            # read back: the port must now report what was asked for
            check = self.qos_report(mlnx_qos)
            got = {'trust': check['trust'], 'pfc_priorities': check['pfc_priorities']}
            if dscp2prio is not None:
                got['dscp2prio'] = dict((str(d), check['dscp2prio'].get(d)) for d in sorted(dscp2prio))
            if got != after:
                self.fail('mlnx_qos -i %s reports %s after the change, expected %s' % (self.netdev, got, after))

        self.ecn(before, after)
        dev, port = self.find_rdma_device()
        if dev is None:
            self.fail('no RDMA device found for %s (GID table in %s, ibdev2netdev); set rdma_device'
                      % (self.netdev, os.path.join(p['sysfs_root'], 'class', 'infiniband')))
        self.rdma_cm(dev, port, before, after)
        self.pause(before, after)

        changed = bool(self.commands)
        result = dict(changed=changed, commands=self.commands, state=after, qos=qos, rdma_device=dev, rdma_port=port)
        if changed and self.module._diff:
            result['diff'] = dict(before=before, after=after)
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            netdev=dict(type='str', required=True),
            trust=dict(type='str', choices=['dscp', 'pcp'], default='dscp'),
            pfc_priorities=dict(type='list', elements='int'),
            dscp2prio=dict(type='dict'),
            ecn_priorities=dict(type='list', elements='int'),
            cnp_dscp=dict(type='int'),
            cnp_priority=dict(type='int'),
            roce_mode=dict(type='str', choices=list(ROCE_MODES), default='RoCE v2'),
            roce_tos=dict(type='int'),
            rdma_device=dict(type='str'),
            global_pause=dict(type='bool', default=False),
            sysfs_root=dict(type='path', default='/sys'),
            configfs_root=dict(type='path', default='/sys/kernel/config'),
        ),
        supports_check_mode=True,
    )
    RoceQos(module).apply()


if __name__ == '__main__':
    main()
