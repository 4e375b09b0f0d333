#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: connectx_firmware_info
short_description: Read the firmware versions of the NVIDIA (Mellanox) ConnectX adapters of a host
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - Runs C(mlxfwmanager --query) (NVIDIA MFT) once and returns one record per adapter it finds, with its
    identity (device type, part number, PSID, PCI device name, base MAC) and the current and available
    versions of its FW, PXE and UEFI images.
  - The available versions are those of the images mlxfwmanager finds (its own bundle, or O(image_dir)); the
    firmware baseline of the cluster is compared with the current FW version by the firmware role
    (aifabric.cluster.firmware_from_mlxfwmanager and aifabric.cluster.firmware_compare).
  - Never changes anything on the host; C(mlxfwmanager --query) does not burn firmware.
options:
  mlxfwmanager_path:
    description:
      - Path of the C(mlxfwmanager) binary.
      - By default C(mlxfwmanager) is looked up in E(PATH) and the usual system directories; the module fails when it is not found.
    type: path
  image_dir:
    description:
      - Directory of firmware images to compare the adapters with (C(mlxfwmanager --query -D <image_dir>)).
      - When not set, mlxfwmanager compares with the images it is bundled with, if any.
    type: path
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - Needs root (mlxfwmanager reads the adapters through the MST or PCI configuration devices).
  - Values that mlxfwmanager prints as C(N/A) are returned as V(null).
  - The output of C(mlxup --query) has the same layout and is parsed the same way; set O(mlxfwmanager_path) to mlxup to use it.
seealso:
  - module: aifabric.cluster.nvidia_smi_info
'''

EXAMPLES = r'''
- name: Read the ConnectX firmware
  aifabric.cluster.connectx_firmware_info:
  register: connectx

- name: Show the FW version of every adapter
  ansible.builtin.debug:
    msg: "{{ connectx.devices | map(attribute='versions.fw.current') | list }}"

- name: Compare with the images of a directory, with mlxfwmanager from a specific path
  aifabric.cluster.connectx_firmware_info:
    mlxfwmanager_path: /usr/bin/mlxfwmanager
    image_dir: /srv/firmware/connectx
  register: connectx

- name: Require every adapter to be up to date with those images
  ansible.builtin.assert:
    that:
      - connectx.devices | rejectattr('status', 'equalto', 'Up to date') | list | length == 0
'''

RETURN = r'''
device_count:
  description: Number of adapters in RV(devices).
  returned: success
  type: int
  sample: 2
devices:
  description: One record per adapter, in the order of mlxfwmanager. Unavailable values are V(null).
  returned: success
  type: list
  elements: dict
  contains:
    number:
      description: "Number of the adapter in the output (C(Device #<number>:))."
      type: int
      sample: 1
    device_type:
      description: Device type.
      type: str
      sample: ConnectX7
    part_number:
      description: Part number (V(null) on some OEM adapters).
      type: str
      sample: MCX755106AS-HEA_Ax
    description:
      description: Description of the adapter.
      type: str
      sample: NVIDIA ConnectX-7 HHHL Adapter Card; 200GbE (default mode) / NDR200 IB; Dual-port QSFP112
    psid:
      description: Parameter-Set IDentification of the firmware (selects the image of the board).
      type: str
      sample: MT_0000000834
    pci:
      description: PCI device name, an MST device or a PCI address.
      type: str
      sample: /dev/mst/mt4129_pciconf0
    base_guid:
      description: Base GUID (InfiniBand capable adapters).
      type: str
      sample: a088c20300e4c1b0
    base_mac:
      description: Base MAC address.
      type: str
      sample: a088c2e4c1b0
    port_macs:
      description: MAC address per port number, from the C(PortN MAC) lines of older adapters; empty otherwise.
      type: dict
      sample: {"1": 7cfe90bed011, "2": 7cfe90bed012}
    versions:
      description:
        - Image name (lower case, C(fw), C(pxe), C(uefi), C(nvme)) to C(current) and C(available) versions.
        - C(available) is V(null) when mlxfwmanager has no image for the adapter.
      type: dict
      sample: {fw: {current: 28.39.1002, available: 28.43.1014}, pxe: {current: 3.7.0500, available: null}}
    status:
      description: Status that mlxfwmanager reports, for example C(Up to date), C(Update required) or C(No matching image found).
      type: str
      sample: Update required
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.firmware import (
    FirmwareParseError, parse_mlxfwmanager_query,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mlxfwmanager_path=dict(type='path'),
            image_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    tool = module.params['mlxfwmanager_path'] or module.get_bin_path('mlxfwmanager', required=True)
    command = [tool, '--query']
    if module.params['image_dir']:
        command.extend(['-D', module.params['image_dir']])

    rc, out, err = module.run_command(command, environ_update=dict(LANG='C', LC_ALL='C'))
    if rc != 0:
        module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(command), rc, (err or out).strip()),
                         rc=rc, stdout=out, stderr=err)
    try:
        devices = parse_mlxfwmanager_query(out)
    except FirmwareParseError as exc:
        module.fail_json(msg=str(exc), rc=rc, stdout=out, stderr=err)

    module.exit_json(changed=False, device_count=len(devices), devices=devices)


if __name__ == '__main__':
    main()
