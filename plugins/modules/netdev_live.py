#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: netdev_live
short_description: Restore the live MTU and addresses of a netdev to the intent
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - Reads the live link with C(ip -j addr show dev) O(netdev) and restores what drifted from the intent, whatever the
    persisted network configuration says (a NIC reset, a manual C(ip link set mtu) or a driver reload change the live
    link and leave the files as they were).
  - Sets the MTU with C(ip link set dev NETDEV mtu N) and adds each missing address of O(addresses) with
    C(ip addr add). Addresses that are not in O(addresses) are left alone.
  - An MTU change on a port with traffic drops frames for a moment; the intent wins, as the lossless fabric needs the
    same MTU end to end.
  - Check mode reports each drift without changing it; diff mode shows the live state before and after.
options:
  netdev:
    description: The netdev, for example C(ens1f0np0).
    type: str
    required: true
  mtu:
    description: The MTU the live link must have; not managed when unset.
    type: int
  addresses:
    description: Addresses (CIDR, IPv4 or IPv6) the live link must have, for example V(10.0.0.5/24).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - aifabric.cluster.attributes.change
notes:
  - Needs C(ip) from iproute2 4.14 or later (JSON output) and root (C(become)).
seealso:
  - module: aifabric.cluster.roce_qos
'''

EXAMPLES = r'''
- name: Restore the fabric port's live MTU and address
  aifabric.cluster.netdev_live:
    netdev: ens1f0np0
    mtu: 9000
    addresses: [10.20.0.11/24]
  become: true
'''

RETURN = r'''
state:
  description: The live link after the run (in check mode, as it would be).
  returned: always
  type: dict
  sample: {netdev: ens1f0np0, mtu: 9000, operstate: UP, mac: "0a:af:02:00:00:65", ipv4: [10.20.0.11/24], ipv6: []}
drift:
  description: One line per live value that differed from the intent (and was restored unless in check mode).
  returned: always
  type: list
  elements: str
  sample: ["ens1f0np0: mtu 1500 -> 9000"]
diff:
  description: C(before) and C(after) of RV(state) (diff mode).
  returned: changed and diff mode
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aifabric.cluster.plugins.module_utils.ip_link import IpLinkError, parse_addr_show, plan


def read(module, ip, netdev):
    rc, out, err = module.run_command([ip, '-j', 'addr', 'show', 'dev', netdev])
    if rc != 0:
        module.fail_json(msg="%s: ip -j addr show failed (rc %d): %s" % (netdev, rc, err.strip() or out.strip()))
    try:
        return parse_addr_show(out, netdev)
    except IpLinkError as exc:
        module.fail_json(msg=str(exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            netdev=dict(type='str', required=True),
            mtu=dict(type='int'),
            addresses=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    netdev = module.params['netdev']
    ip = module.get_bin_path('ip', required=True)
    before = read(module, ip, netdev)
    steps, after = plan(before, module.params['mtu'], module.params['addresses'])
    drift = ['%s: %s' % (netdev, what) for what, dummy in steps]
    if steps and not module.check_mode:
        for what, args in steps:
            rc, out, err = module.run_command([ip] + args)
            if rc != 0:
                module.fail_json(msg="%s: %s failed (rc %d): %s" % (netdev, what, rc, err.strip() or out.strip()),
                                 drift=drift, state=before)
        after = read(module, ip, netdev)
    result = dict(changed=bool(steps), state=after, drift=drift)
    if steps and module._diff:
        result['diff'] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
