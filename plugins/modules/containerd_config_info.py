#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_config_info
short_description: Read the configuration containerd really runs with and check it against what Kubernetes needs
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Runs C(containerd --version) and C(containerd --config <config_path> config dump), which prints the merged
    configuration (the file, its C(imports) and every default), and reads the keys that decide how pods run:
    the runtimes and their C(SystemdCgroup) and C(BinaryName), the default runtime, the sandbox (pause) image
    and CDI."
  - "Reads config version 2 (containerd 1.6 and 1.7, CRI plugin C(io.containerd.grpc.v1.cri)) and version 3
    (containerd 2.x, C(io.containerd.cri.v1.runtime) and C(io.containerd.cri.v1.images))."
  - "The cgroup driver is read from C(SystemdCgroup) under each runtime's C(options); the legacy top-level
    C(systemd_cgroup) of the CRI plugin stays C(false) and proves nothing."
  - "Returns RV(problems), one message per difference from the expectations given (O(systemd_cgroup),
    O(runtimes), O(binary_names), O(default_runtime), O(sandbox_image), O(cdi)); an expectation left unset is not
    checked."
  - Never changes anything on the host; a config that containerd cannot load fails the module with its error.
options:
  config_path:
    description: The containerd configuration file to load.
    type: path
    default: /etc/containerd/config.toml
  containerd_path:
    description:
      - The C(containerd) program; a name is looked up in E(PATH) and the usual system directories, a path is used
        as it is. The module fails when it is not found.
    type: str
    default: containerd
  systemd_cgroup:
    description:
      - The C(SystemdCgroup) every runtime must have (V(true) for the kubelet's C(cgroupDriver=systemd),
        V(false) for C(cgroupfs)); not checked when unset.
    type: bool
  runtimes:
    description: Runtime handlers that must be configured, for example V(runc) and V(nvidia).
    type: list
    elements: str
    default: []
  binary_names:
    description: The C(BinaryName) each named runtime must run, for example C(nvidia) mapped to V(/usr/bin/nvidia-container-runtime).
    type: dict
    default: {}
  default_runtime:
    description: The C(default_runtime_name) expected; not checked when empty.
    type: str
    default: ''
  sandbox_image:
    description: The sandbox (pause) image expected, normally the one of the Kubernetes version; not checked when empty.
    type: str
    default: ''
  cdi:
    description:
      - Whether CDI must be enabled (C(enable_cdi)); not checked when unset, nor on containerd 1.6, which has no
        CDI switch.
    type: bool
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - Needs read access to the configuration file and its imports; run it with C(become).
seealso:
  - module: aifabric.cluster.nvidia_smi_info
'''

EXAMPLES = r'''
- name: Read and check containerd on a GPU node
  aifabric.cluster.containerd_config_info:
    systemd_cgroup: true
    runtimes: [runc, nvidia]
    binary_names:
      nvidia: /usr/bin/nvidia-container-runtime
    default_runtime: nvidia
    sandbox_image: registry.k8s.io/pause:3.10.1
    cdi: true
  become: true
  register: containerd

- name: Stop when containerd does not run as Kubernetes needs
  ansible.builtin.assert:
    that: containerd.problems | length == 0
    fail_msg: "{{ containerd.problems }}"
'''

RETURN = r'''
containerd_version:
  description: The version of containerd, from C(containerd --version).
  returned: always
  type: str
  sample: 1.6.20
config_version:
  description: The version of the loaded configuration (2 or 3).
  returned: always
  type: int
  sample: 2
cri_plugin:
  description: The CRI plugin section the runtimes were read from; empty when the CRI plugin is not configured.
  returned: always
  type: str
  sample: io.containerd.grpc.v1.cri
default_runtime:
  description: The C(default_runtime_name) of the CRI plugin.
  returned: always
  type: str
  sample: nvidia
runtimes:
  description: The runtime handlers, by name.
  returned: always
  type: dict
  sample:
    nvidia: {runtime_type: io.containerd.runc.v2, binary_name: /usr/bin/nvidia-container-runtime, systemd_cgroup: true}
    runc: {runtime_type: io.containerd.runc.v2, binary_name: '', systemd_cgroup: true}
sandbox_image:
  description: The sandbox (pause) image.
  returned: always
  type: str
  sample: registry.k8s.io/pause:3.10
enable_cdi:
  description: Whether CDI is enabled; V(null) on containerd 1.6, which has no CDI switch.
  returned: always
  type: bool
  sample: true
cdi_spec_dirs:
  description: Where containerd reads CDI specs.
  returned: always
  type: list
  elements: str
  sample: [/etc/cdi, /var/run/cdi]
legacy_systemd_cgroup:
  description: The CRI plugin's legacy top-level C(systemd_cgroup) (normally V(false); it decides nothing).
  returned: always
  type: bool
  sample: false
imports:
  description: The drop-in files the configuration imports.
  returned: always
  type: list
  elements: str
  sample: []
problems:
  description: One message per difference from the expectations; empty when containerd is configured as expected.
  returned: always
  type: list
  elements: str
  sample:
    - "runtime 'runc' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.containerd_config import (
    ConfigError, load, parse_version, problems, summarize)

ENV = {'LC_ALL': 'C', 'LANG': 'C'}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_path=dict(type='path', default='/etc/containerd/config.toml'),
            containerd_path=dict(type='str', default='containerd'),
            systemd_cgroup=dict(type='bool'),
            runtimes=dict(type='list', elements='str', default=[]),
            binary_names=dict(type='dict', default={}),
            default_runtime=dict(type='str', default=''),
            sandbox_image=dict(type='str', default=''),
            cdi=dict(type='bool'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params['containerd_path']
    containerd = path if '/' in path else module.get_bin_path(path, opt_dirs=['/usr/local/bin', '/usr/bin'])
    if not containerd:
        module.fail_json(msg='containerd not found (containerd_path %s): install containerd first' % path)

    rc, out, err = module.run_command([containerd, '--version'], environ_update=ENV)
    if rc != 0:
        module.fail_json(msg='containerd --version failed (rc %d): %s' % (rc, (err or out).strip()))
    try:
        version = parse_version(out)
    except ConfigError as exc:
        module.fail_json(msg=str(exc))

    rc, out, err = module.run_command([containerd, '--config', params['config_path'], 'config', 'dump'],
                                      environ_update=ENV)
    if rc != 0:
        module.fail_json(msg='containerd cannot load %s (rc %d): %s' % (params['config_path'], rc, (err or out).strip()))
    try:
        summary = summarize(load(out))
    except ConfigError as exc:
        module.fail_json(msg='containerd config dump of %s: %s' % (params['config_path'], exc))

    expect = dict((key, params[key]) for key in
                  ('systemd_cgroup', 'runtimes', 'binary_names', 'default_runtime', 'sandbox_image', 'cdi'))
    result = dict(summary, containerd_version=version['version'])
    result['problems'] = problems(summary, expect)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
