"""Each role's README.md, generated from its meta/argument_specs.yml (make docs).

    python3 tests/docs/role_readmes.py          # write roles/*/README.md
    python3 tests/docs/role_readmes.py --check  # exit 1, naming each stale README

The README is short on purpose: what the role does (the spec's description), its entry
points and inputs in one table each, and where the rest is: the capability's page under
docs/ and the reference page that `make docs` builds (or `ansible-doc -t role`).
"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the capability page under docs/ that explains each role's part
GUIDE = {
    'base': 'base.md', 'bmc': 'provisioning.md', 'container_runtime': 'kubernetes.md',
    'cuda_toolkit': 'gpu-stack.md', 'dcgm': 'gpu-stack.md', 'fabric_switch': 'fabric.md',
    'fabric_validate': 'fabric-validate.md', 'firmware': 'firmware.md', 'gpu_health': 'gpu-health.md',
    'gpu_operator': 'kubernetes-gpu.md', 'kubernetes_cni': 'kubernetes.md',
    'kubernetes_control_plane': 'kubernetes.md', 'kubernetes_loadbalancer': 'kubernetes.md',
    'kubernetes_node': 'kubernetes.md', 'lustre_client': 'storage.md', 'network_operator': 'kubernetes-gpu.md',
    'nfs_client': 'storage.md', 'nvidia_container_toolkit': 'gpu-stack.md', 'nvidia_driver': 'gpu-stack.md',
    'preflight': 'preflight.md', 'provision': 'provisioning.md', 'pxe_server': 'provisioning.md',
    'roce_host': 'roce-host.md', 'storage_mount': 'storage.md',
}


def _text(value):
    if isinstance(value, list):
        return [' '.join(str(v).split()) for v in value]
    return [' '.join(str(value).split())] if value else []


def _markdown(text):
    """Ansible doc markup to Markdown: C(), V(), O(), M(), I() and B() of plain text."""
    text = re.sub(r'[CVOM]\(([^()]*)\)', r'`\1`', text)
    return re.sub(r'[IB]\(([^()]*)\)', r'*\1*', text)


def _default(opt):
    if 'default' in opt:
        value = opt['default']
        return '`%s`' % (value if isinstance(value, str) else json.dumps(value))
    for text in _text(opt.get('description')):  # a Jinja default of a non-string option
        found = re.match(r'Default: V\((.*?)(?<!\\)\)', text)
        if found:
            return '`{{ %s }}`' % re.sub(r'\\(.)', r'\1', found.group(1))
    return '-'


def _cell(text):
    return text.replace('|', '\\|')


def render(role, spec):
    entries = spec['argument_specs']
    main = entries['main']
    out = ['# aifabric.cluster.%s' % role, '',
           '<!-- generated from meta/argument_specs.yml by make docs; do not edit -->', '',
           main['short_description'] + '.' if not main['short_description'].endswith('.') else main['short_description'], '']
    for paragraph in _text(main.get('description')):
        out += [_markdown(paragraph), '']
    out += ['Guide: [docs/%s](../../docs/%s). Reference: `ansible-doc -t role aifabric.cluster.%s`, or the page '
            '`make docs` builds (`.cache/docs/collections/aifabric/cluster/%s_role.rst`).' % (
                GUIDE[role], GUIDE[role], role, role), '']
    if len(entries) > 1:
        out += ['| entry point | what it does |', '|---|---|']
        out += ['| `%s` | %s |' % (name, _cell(_markdown(entry['short_description']))) for name, entry in entries.items()]
        out.append('')
    options = main.get('options') or {}
    if options:
        out += ['Inputs of `main`:', '', '| input | type | default |', '|---|---|---|']
        for name, opt in options.items():
            kind = opt.get('type', 'str')
            if opt.get('elements'):
                kind += ' of ' + opt['elements']
            default = 'required' if opt.get('required') else _default(opt)
            out.append('| `%s` | %s | %s |' % (name, kind, _cell(default)))
        out.append('')
    return '\n'.join(out)


def readmes(root=ROOT):
    roles = os.path.join(root, 'roles')
    for role in sorted(os.listdir(roles)):
        spec_path = os.path.join(roles, role, 'meta', 'argument_specs.yml')
        if os.path.isfile(spec_path):
            with open(spec_path, encoding='utf-8') as f:
                yield role, os.path.join(roles, role, 'README.md'), render(role, yaml.safe_load(f))


def main(argv):
    stale = []
    for role, path, text in readmes():
        current = open(path, encoding='utf-8').read() if os.path.exists(path) else None
        if current == text:
            continue
        if '--check' in argv:
            stale.append(role)
        else:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
    for role in stale:
        print('roles/%s/README.md is not what its argument spec generates: run python3 tests/docs/role_readmes.py' % role)
    return 1 if stale else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
