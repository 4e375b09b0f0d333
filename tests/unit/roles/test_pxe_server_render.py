# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering of the pxe_server role: the served-host model read from the inventory, the
checks, the dnsmasq and nginx configurations, the iPXE scripts and the unattended-install
data (Ubuntu autoinstall user-data, RHEL-family kickstart, Debian preseed).

The templates are rendered with plain Jinja2 set up as Ansible's template module does
(trim_blocks, no lstrip_blocks) plus the Ansible filters and tests they use (combine,
to_json, from_json, to_nice_yaml, regex_replace, b64encode, urlsplit, search, match) and
ansible.utils' ipaddr, ipv4 and hwaddr.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import copy
import json
import os
import re
import shutil
import subprocess

import jinja2
import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# importing Ansible's controller code (filters, tests, ansible.errors) marks the process as
# the controller, which changes how in-process module tests collect warnings: keep the
# flag as it was for the other test files, set it only while this file's tests run
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.filter.urlsplit import FilterModule as UrlsplitFilters
from ansible.plugins.test.core import TestModule as CoreTests
from ansible_collections.ansible.utils.plugins.filter.hwaddr import FilterModule as HwaddrFilters
from ansible_collections.ansible.utils.plugins.filter.ipaddr import FilterModule as IpaddrFilters
from ansible_collections.ansible.utils.plugins.filter.ipv4 import FilterModule as Ipv4Filters
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'pxe_server')

HASH = '$6$aifabricsalt$k1TEAUW0pJtVvfbtA1Kq7DhK4yTnE6t9pS8Qe0b7GmH0tWvQhk2nM1Yw3rU6sPz8dF5cJ7aL0iXyB4eN9oRqC/'
KEYS = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps1 ops@example', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 "quoted" admin']

IMAGES = {
    'ubuntu-24.04': {
        'family': 'ubuntu',
        'kernel_url': 'http://mirror.example/ubuntu-24.04/vmlinuz',
        'kernel_checksum': 'sha256:http://mirror.example/ubuntu-24.04/SHA256SUMS',
        'initrd_url': 'http://mirror.example/ubuntu-24.04/initrd',
        'initrd_checksum': 'sha256:http://mirror.example/ubuntu-24.04/SHA256SUMS',
        'repo_url': 'http://mirror.example/ubuntu',
        'extra_kernel_args': 'url=http://mirror.example/ubuntu-24.04/live-server.iso cloud-config-url=/dev/null',
    },
    'rocky-9': {
        'family': 'rhel',
        'kernel_url': 'http://mirror.example/rocky/9/BaseOS/x86_64/os/images/pxeboot/vmlinuz',
        'kernel_checksum': 'sha256:' + 'a' * 64,
        'initrd_url': 'http://mirror.example/rocky/9/BaseOS/x86_64/os/images/pxeboot/initrd.img',
        'initrd_checksum': 'sha256:' + 'b' * 64,
        'repo_url': 'http://mirror.example/rocky/9/BaseOS/x86_64/os',
    },
    'debian-12': {
        'family': 'debian',
        'kernel_url': 'http://mirror.example/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux',
        'kernel_checksum': 'sha256:' + 'c' * 64,
        'initrd_url': 'http://mirror.example/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/initrd.gz',
        'initrd_checksum': 'sha256:' + 'd' * 64,
        'repo_url': 'http://mirror.example/debian',
    },
}

# the lab's shape: the PXE server (mgmt-01), three nodes (one per installer family), a
# node without a MAC (not served) and a switch outside the group
HOSTVARS = {
    'mgmt-01': {'node_mgmt_ip': '10.231.0.10', 'node_mgmt_mac': '0a:af:01:00:00:0a'},
    'gpu-01': {'node_mgmt_ip': '10.231.0.101', 'node_mgmt_mac': '0A:AF:01:00:00:65',
               'node_fabric_ip': '10.232.0.101', 'node_fabric_mac': '0a:af:02:00:00:65', 'node_os': 'ubuntu-24.04'},
    'gpu-02': {'node_mgmt_ip': '10.231.0.102', 'node_mgmt_mac': '0a:af:01:00:00:66',
               'node_fabric_ip': '10.232.0.102', 'node_fabric_mac': '0a:af:02:00:00:66', 'node_os': 'rocky-9',
               'node_install_disk': '/dev/sda'},
    'stor-01': {'node_mgmt_ip': '10.231.0.21', 'node_mgmt_mac': '0a:af:01:00:00:15'},
    'stor-02': {'node_mgmt_ip': '10.231.0.22'},
    'leaf-01': {'node_mgmt_ip': '10.231.0.21', 'node_mgmt_mac': '0a:af:01:00:00:15'},
}
GROUPS = {'cluster': ['mgmt-01', 'gpu-01', 'gpu-02', 'stor-01', 'stor-02'], 'switches': ['leaf-01']}

CLUSTER = {
    'cluster_os': 'debian-12',
    'cluster_domain': 'lab.aifabric.internal',
    'cluster_networks': {
        'mgmt': {'cidr': '10.231.0.0/24', 'gateway': '10.231.0.1', 'mtu': 1500},
        'fabric': {'cidr': '10.232.0.0/24', 'mtu': 9000},
    },
}


@pytest.fixture(autouse=True)
def controller(monkeypatch):
    monkeypatch.setattr(module_utils_internal, 'is_controller', True)


def _yaml(*path):
    with open(os.path.join(ROLE, *path)) as f:
        return yaml.safe_load(f)


def environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(ROLE, 'templates')),
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    core = CoreFilters().filters()
    for name in ('combine', 'to_json', 'from_json', 'to_nice_yaml', 'regex_replace', 'b64encode', 'bool', 'flatten'):
        env.filters[name] = core[name]
    env.filters['urlsplit'] = UrlsplitFilters().filters()['urlsplit']
    for module in (IpaddrFilters(), Ipv4Filters(), HwaddrFilters()):
        for name, func in module.filters().items():
            env.filters['ansible.utils.' + name] = func
    tests = CoreTests().tests()
    for name in ('search', 'match'):
        env.tests[name] = tests[name]
    return env


def variables(hostvars=None, groups=None, **overrides):
    """The PXE server's variables as Ansible has them: role defaults with the inventory's
    values filled in, the Debian family's vars, the role vars and the served-host model."""
    env = environment()
    hostvars = copy.deepcopy(HOSTVARS if hostvars is None else hostvars)
    for host in hostvars.values():
        for key, value in CLUSTER.items():
            host.setdefault(key, value)
    v = dict(copy.deepcopy(CLUSTER))
    v.update(_yaml('defaults', 'main.yml'))
    v.update(_yaml('vars', 'Debian.yml'))
    v.update(_yaml('vars', 'main.yml'))
    v.update({
        'inventory_hostname': 'mgmt-01',
        'hostvars': hostvars,
        'groups': GROUPS if groups is None else groups,
        'pxe_server_address': '10.231.0.10',
        'pxe_server_dhcp_network': '10.231.0.0/24',
        'pxe_server_dhcp_gateway': '10.231.0.1',
        'pxe_server_ipxe_binaries': v['pxe_server__os_ipxe_binaries'],
        'pxe_server_os_images': copy.deepcopy(IMAGES),
        'pxe_server_install_password_hash': HASH,
        'pxe_server_ssh_authorized_keys': list(KEYS),
        'pxe_server_ntp_servers': ['10.231.0.10'],
        'pxe_server__iface': 'eth1',
    })
    v.update(overrides)
    # the derived role var, rendered as Ansible would
    v['pxe_server__url'] = env.from_string(v['pxe_server__url']).render(**v).strip()
    v['pxe_server__served'] = json.loads(env.get_template('served-hosts.json.j2').render(**v))
    return v


def render(template, v=None, **overrides):
    v = variables(**overrides) if v is None else v
    return environment().get_template(template).render(**v)


def host(v, name):
    return [h for h in v['pxe_server__served'] if h['name'] == name][0]


def render_host(template, name, **overrides):
    v = variables(**overrides)
    v['pxe_server__host'] = host(v, name)
    return render(template, v)


def problems(**overrides):
    return [line.strip() for line in render('problems.j2', **overrides).splitlines() if line.strip()]


# ---------------------------------------------------------------------------- model and checks


def test_served_hosts_are_the_group_with_a_mac_minus_the_server():
    v = variables()
    assert [h['name'] for h in v['pxe_server__served']] == ['gpu-01', 'gpu-02', 'stor-01']
    gpu1, gpu2, stor1 = v['pxe_server__served']
    # MACs normalised to lower case with colons; the script name is the hexhyp form
    assert gpu1['mac'] == '0a:af:01:00:00:65' and gpu1['script'] == '0a-af-01-00-00-65.ipxe'
    assert (gpu1['os'], gpu1['family'], gpu1['files']) == ('ubuntu-24.04', 'ubuntu', ['user-data', 'meta-data'])
    assert (gpu2['os'], gpu2['family'], gpu2['files'], gpu2['disk']) == ('rocky-9', 'rhel', ['ks.cfg'], '/dev/sda')
    # node_os defaults to cluster_os, node_install_disk to pxe_server_install_disk
    assert (stor1['os'], stor1['family'], stor1['disk']) == ('debian-12', 'debian', '/dev/nvme0n1')
    assert stor1['paths'] == ['stor-01/preseed.cfg']
    assert (gpu1['fabric_ip'], gpu1['fabric_prefix'], gpu1['fabric_netmask'], gpu1['fabric_mtu']) == \
        ('10.232.0.101', 24, '255.255.255.0', 9000)
    assert stor1['fabric_ip'] == '' and stor1['fabric_mac'] == ''


def test_no_problems_with_a_good_inventory():
    assert problems() == []


def test_problems_name_each_variable_and_value():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars['gpu-02']['node_mgmt_mac'] = '0a:af:01:00:00:65'   # gpu-01's
    hostvars['stor-01']['node_mgmt_ip'] = '10.231.0.101'        # gpu-01's
    hostvars['stor-01']['node_os'] = 'sles-15'
    found = problems(hostvars=hostvars, pxe_server_dhcp_mode='relay')
    assert "pxe_server_dhcp_mode is 'relay'; it must be static or proxy" in found
    assert 'gpu-01 and gpu-02 have the same node_mgmt_mac 0a:af:01:00:00:65' in found
    assert 'gpu-01 and stor-01 have the same node_mgmt_ip 10.231.0.101' in found
    assert ("stor-01: node_os (or cluster_os) is 'sles-15', which is not a key of pxe_server_os_images "
            "(debian-12, rocky-9, ubuntu-24.04)") in found


def test_problems_bad_values():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars['gpu-01']['node_mgmt_mac'] = 'not-a-mac'
    hostvars['gpu-02']['node_mgmt_ip'] = '10.99.0.1'
    images = copy.deepcopy(IMAGES)
    images['debian-12']['family'] = 'suse'
    images['debian-12']['initrd_checksum'] = ''
    found = problems(hostvars=hostvars, pxe_server_os_images=images, pxe_server_address='10.99.0.10')
    assert ('pxe_server_address 10.99.0.10 is outside pxe_server_dhcp_network 10.231.0.0/24; '
            'dnsmasq answers on the network of its interface only') in found
    assert "gpu-01: node_mgmt_mac is 'not-a-mac'; it must be a MAC address" in found
    assert 'gpu-02: node_mgmt_ip 10.99.0.1 is outside pxe_server_dhcp_network 10.231.0.0/24' in found
    assert "pxe_server_os_images['debian-12'].family is 'suse'; it must be ubuntu, rhel or debian" in found
    assert any(line.startswith("pxe_server_os_images['debian-12'].initrd_checksum is ''") for line in found)


def test_no_password_hash_in_the_checks():
    assert HASH not in render('problems.j2')


# ---------------------------------------------------------------------------- dnsmasq


def test_dnsmasq_static():
    lines = render('dnsmasq.conf.j2').splitlines()
    for line in ('port=0', 'interface=eth1', 'bind-interfaces', 'dhcp-range=10.231.0.0,static,255.255.255.0,1h',
                 'dhcp-option=option:router,10.231.0.1', 'dhcp-ignore=tag:!known', 'dhcp-match=set:ipxe,175',
                 'dhcp-match=set:efi64,option:client-arch,7', 'dhcp-match=set:efi64,option:client-arch,9',
                 'enable-tftp', 'tftp-root=/srv/aifabric-pxe/tftp', 'log-dhcp',
                 'log-facility=/var/log/aifabric-pxe/dnsmasq.log', 'dhcp-leasefile=/var/lib/misc/dnsmasq.leases'):
        assert line in lines, line
    assert [line for line in lines if line.startswith('dhcp-host=')] == [
        'dhcp-host=0a:af:01:00:00:65,gpu-01,10.231.0.101',
        'dhcp-host=0a:af:01:00:00:66,gpu-02,10.231.0.102',
        'dhcp-host=0a:af:01:00:00:15,stor-01,10.231.0.21',
    ]
    assert [line for line in lines if line.startswith('dhcp-boot=')] == [
        'dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,10.231.0.10',
        'dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi,,10.231.0.10',
        'dhcp-boot=tag:ipxe,http://10.231.0.10/boot.ipxe',
    ]
    assert not [line for line in lines if line.startswith(('pxe-service', 'dhcp-option=option:dns-server'))]


def test_dnsmasq_other_port_and_dns():
    lines = render('dnsmasq.conf.j2', pxe_server_http_port=8080,
                   pxe_server_dns_servers=['10.231.0.2', '10.231.0.3']).splitlines()
    assert 'dhcp-boot=tag:ipxe,http://10.231.0.10:8080/boot.ipxe' in lines
    assert 'dhcp-option=option:dns-server,10.231.0.2,10.231.0.3' in lines


def test_dnsmasq_proxy():
    lines = render('dnsmasq.conf.j2', pxe_server_dhcp_mode='proxy').splitlines()
    assert 'dhcp-range=10.231.0.0,proxy' in lines
    assert 'dhcp-host=0a:af:01:00:00:65,gpu-01' in lines
    assert 'dhcp-ignore=tag:!known' in lines
    assert not [line for line in lines if line.startswith(('dhcp-boot', 'dhcp-option=option:router'))]
    assert [line for line in lines if line.startswith('pxe-service=')] == [
        'pxe-service=tag:!ipxe,x86PC,"Network boot",undionly.kpxe',
        'pxe-service=tag:!ipxe,X86-64_EFI,"Network boot",snponly.efi',
        'pxe-service=tag:ipxe,x86PC,"iPXE",http://10.231.0.10/boot.ipxe',
        'pxe-service=tag:ipxe,X86-64_EFI,"iPXE",http://10.231.0.10/boot.ipxe',
    ]


@pytest.mark.skipif(not shutil.which('dnsmasq'), reason='dnsmasq is not installed here')
@pytest.mark.parametrize('mode', ['static', 'proxy'])
def test_dnsmasq_accepts_the_configuration(tmp_path, mode):
    conf = tmp_path / 'aifabric-pxe.conf'
    conf.write_text(render('dnsmasq.conf.j2', pxe_server_dhcp_mode=mode, pxe_server_dns_servers=['10.231.0.2']))
    # what the role's validate runs
    res = subprocess.run(['dnsmasq', '--test', '--conf-file=%s' % conf], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_nginx_site():
    text = render('nginx.conf.j2')
    assert 'listen 80 default_server;' in text
    assert 'root /srv/aifabric-pxe;' in text
    assert 'autoindex off;' in text
    assert 'access_log /var/log/nginx/aifabric-pxe.access.log;' in text
    assert 'error_log /var/log/nginx/aifabric-pxe.error.log;' in text


# ---------------------------------------------------------------------------- iPXE


def test_boot_ipxe():
    assert render('boot.ipxe.j2').splitlines() == [
        '#!ipxe',
        "# aifabric.cluster pxe_server: chain to this node's own script, by MAC",
        'chain http://10.231.0.10/ipxe/${net0/mac:hexhyp}.ipxe || goto unknown',
        ':unknown',
        'echo No install is defined for ${net0/mac}; booting from local disk',
        'exit',
    ]


def test_host_ipxe_per_family():
    ubuntu = render_host('host.ipxe.j2', 'gpu-01').splitlines()
    assert ubuntu == [
        '#!ipxe',
        '# gpu-01: ubuntu-24.04',
        'kernel http://10.231.0.10/images/ubuntu-24.04/vmlinuz initrd=initrd ip=dhcp autoinstall '
        'ds=nocloud-net;s=http://10.231.0.10/install/gpu-01/ '
        'url=http://mirror.example/ubuntu-24.04/live-server.iso cloud-config-url=/dev/null',
        'initrd --name initrd http://10.231.0.10/images/ubuntu-24.04/initrd',
        'boot',
    ]
    rhel = render_host('host.ipxe.j2', 'gpu-02').splitlines()
    assert rhel[2] == ('kernel http://10.231.0.10/images/rocky-9/vmlinuz initrd=initrd ip=dhcp '
                       'inst.ks=http://10.231.0.10/install/gpu-02/ks.cfg '
                       'inst.repo=http://mirror.example/rocky/9/BaseOS/x86_64/os')
    debian = render_host('host.ipxe.j2', 'stor-01', pxe_server_http_port=8080).splitlines()
    assert debian[2] == ('kernel http://10.231.0.10:8080/images/debian-12/vmlinuz initrd=initrd auto=true '
                         'priority=critical url=http://10.231.0.10:8080/install/stor-01/preseed.cfg interface=auto '
                         'netcfg/choose_interface=0a:af:01:00:00:15')
    assert debian[3] == 'initrd --name initrd http://10.231.0.10:8080/images/debian-12/initrd'


# ---------------------------------------------------------------------------- install data


def test_ubuntu_user_data():
    text = render_host('user-data.j2', 'gpu-01')
    assert text.startswith('#cloud-config\n')
    doc = yaml.safe_load(text)['autoinstall']
    assert doc['version'] == 1
    assert doc['identity'] == {'hostname': 'gpu-01', 'username': 'aifabric', 'password': HASH, 'realname': 'aifabric'}
    assert doc['ssh'] == {'install-server': True, 'allow-pw': False, 'authorized-keys': KEYS}
    assert doc['network'] == {'version': 2, 'ethernets': {
        'mgmt0': {'match': {'macaddress': '0a:af:01:00:00:65'}, 'set-name': 'mgmt0',
                  'addresses': ['10.231.0.101/24'], 'routes': [{'to': 'default', 'via': '10.231.0.1'}]},
        'fabric0': {'match': {'macaddress': '0a:af:02:00:00:65'}, 'set-name': 'fabric0',
                    'addresses': ['10.232.0.101/24'], 'mtu': 9000},
    }}
    assert doc['storage'] == {'layout': {'name': 'direct', 'match': {'path': '/dev/nvme0n1'}}}
    assert doc['apt'] == {'preserve_sources_list': False,
                          'primary': [{'arches': ['default'], 'uri': 'http://mirror.example/ubuntu'}]}
    assert doc['timezone'] == 'Etc/UTC'
    assert doc['late-commands'] == []
    assert doc['user-data'] == {'ntp': {'enabled': True, 'servers': ['10.231.0.10']}}


def test_ubuntu_user_data_without_gateway_fabric_ntp():
    hostvars = copy.deepcopy(HOSTVARS)
    del hostvars['gpu-01']['node_fabric_mac']
    doc = yaml.safe_load(render_host('user-data.j2', 'gpu-01', hostvars=hostvars, pxe_server_dhcp_gateway='',
                                     pxe_server_ntp_servers=[], pxe_server_dns_servers=['10.231.0.2']))['autoinstall']
    assert doc['network']['ethernets'] == {'mgmt0': {
        'match': {'macaddress': '0a:af:01:00:00:65'}, 'set-name': 'mgmt0', 'addresses': ['10.231.0.101/24'],
        'nameservers': {'addresses': ['10.231.0.2']}}}
    assert 'user-data' not in doc


def test_ubuntu_meta_data():
    assert yaml.safe_load(render_host('meta-data.j2', 'gpu-01')) == {'instance-id': 'gpu-01', 'local-hostname': 'gpu-01'}


def test_rhel_kickstart():
    lines = render_host('ks.cfg.j2', 'gpu-02').splitlines()
    assert 'url --url=http://mirror.example/rocky/9/BaseOS/x86_64/os' in lines
    assert ('network --bootproto=static --device=0a:af:01:00:00:66 --ip=10.231.0.102 --netmask=255.255.255.0 '
            '--gateway=10.231.0.1 --hostname=gpu-02 --onboot=yes --activate') in lines
    assert ('network --bootproto=static --device=0a:af:02:00:00:66 --ip=10.232.0.102 --netmask=255.255.255.0 '
            '--mtu=9000 --nodefroute --onboot=yes --activate') in lines
    assert 'rootpw --lock' in lines
    assert 'user --name=aifabric --password=%s --iscrypted --groups=wheel' % HASH in lines
    assert 'sshkey --username=aifabric "%s"' % KEYS[0] in lines
    # a '"' in a key's comment is escaped (kickstart reads the line like a shell)
    assert 'sshkey --username=aifabric "%s"' % KEYS[1].replace('"', '\\"') in lines
    assert 'ignoredisk --only-use=sda' in lines
    assert 'clearpart --all --initlabel --drives=sda' in lines
    assert 'timesource --ntp-server=10.231.0.10' in lines
    for line in ('text', 'autopart', 'reboot', '%packages', '@core', 'openssh-server', '%end'):
        assert line in lines


def test_debian_preseed():
    text = render_host('preseed.cfg.j2', 'stor-01')
    lines = text.splitlines()
    for line in ('d-i netcfg/get_ipaddress string 10.231.0.21',
                 'd-i netcfg/get_netmask string 255.255.255.0',
                 'd-i netcfg/get_gateway string 10.231.0.1',
                 'd-i netcfg/get_hostname string stor-01',
                 'd-i netcfg/get_domain string lab.aifabric.internal',
                 'd-i mirror/http/hostname string mirror.example',
                 'd-i mirror/http/directory string /debian',
                 'd-i passwd/root-login boolean false',
                 'd-i passwd/username string aifabric',
                 'd-i passwd/user-password-crypted password %s' % HASH,
                 'd-i partman-auto/disk string /dev/nvme0n1',
                 'd-i partman-auto/method string regular',
                 'd-i grub-installer/bootdev string /dev/nvme0n1',
                 'tasksel tasksel/first multiselect standard, ssh-server',
                 'd-i pkgsel/include string openssh-server sudo',
                 'd-i finish-install/reboot_in_progress note'):
        assert line in lines, line
    late = [line for line in lines if line.startswith('d-i preseed/late_command string ')][0]
    encoded = re.search(r'echo (\S+) \| base64 -d > /home/aifabric/.ssh/authorized_keys', late).group(1)
    assert base64.b64decode(encoded).decode() == '\n'.join(KEYS) + '\n'


def test_hash_only_in_the_secret_files():
    v = variables()
    assert sorted(v['pxe_server__secret_files']) == ['ks.cfg', 'preseed.cfg', 'user-data']
    for name in ('gpu-01', 'gpu-02', 'stor-01'):
        assert HASH not in render_host('host.ipxe.j2', name)
    assert HASH not in render_host('meta-data.j2', 'gpu-01')
    for template in ('dnsmasq.conf.j2', 'nginx.conf.j2', 'boot.ipxe.j2', 'served-hosts.json.j2'):
        assert HASH not in render(template)


# ---------------------------------------------------------------------------- role


def test_role_defaults_match_the_argument_spec():
    options = _yaml('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _yaml('defaults', 'main.yml')
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        assert name.startswith('pxe_server_')
        if '{{' not in str(defaults[name]):
            assert 'default' in spec, name
            assert defaults[name] == spec['default'], name
    # the spec documents defaults/'s expression in its description (a dict option: see
    # tests/unit/test_role_conventions.py), whose fallback is the Debian family's iPXE
    # binaries from vars/; the description names them
    debian = _yaml('vars', 'Debian.yml')['pxe_server__os_ipxe_binaries']
    assert 'default' not in options['pxe_server_ipxe_binaries']
    expression = defaults['pxe_server_ipxe_binaries'].strip()[2:-2].strip()
    assert 'Default: V(%s)' % expression.replace(')', '\\)') in ' '.join(options['pxe_server_ipxe_binaries']['description'])
    assert 'default(%r)' % debian in defaults['pxe_server_ipxe_binaries']
    assert all(path in ' '.join(options['pxe_server_ipxe_binaries']['description']) for path in debian.values())
    params = dict((k, v) for k, v in defaults.items() if '{{' not in str(v))
    params.update({'pxe_server_os_images': IMAGES, 'pxe_server_ipxe_binaries': _yaml('vars', 'RedHat.yml')['pxe_server__os_ipxe_binaries']})
    result = ArgumentSpecValidator(options).validate(params)
    assert not result.error_messages


def test_family_vars_have_the_same_keys():
    assert sorted(_yaml('vars', 'Debian.yml')) == sorted(_yaml('vars', 'RedHat.yml'))
