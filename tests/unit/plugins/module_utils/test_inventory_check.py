# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import inventory_check as ic

GROUP = {
    'cluster_name': 'aifabric-lab',
    'cluster_domain': 'lab.aifabric.internal',
    'cluster_os': 'debian-12',
    'cluster_networks': {
        'mgmt': {'cidr': '10.231.0.0/24', 'gateway': '10.231.0.1', 'mtu': 1500},
        'fabric': {'cidr': '10.232.0.0/24', 'mtu': 9000},
        'bmc': {'cidr': '10.233.0.0/24', 'gateway': '10.233.0.1', 'mtu': 1500},
    },
    'cluster_ntp_servers': ['10.231.0.10'],
    'cluster_apt_repositories': [{
        'name': 'aifabric-lab', 'uris': 'http://10.231.0.3/debian', 'suites': 'bookworm',
        'components': 'main', 'key_url': 'http://10.231.0.3/aifabric-lab.asc',
    }],
    'cluster_bmc_username': 'admin',
    'cluster_bmc_password': 'lab-bmc-Secret-1',
}

SECRET = 'lab-bmc-Secret-1'


def mac(kind, index):
    return '0a:af:%02x:00:%02x:%02x' % (kind, index // 256, index % 256)


def lab(gpus=4):
    """(hosts, groups) shaped like inventories/lab."""
    hosts = {'mgmt-01': dict(GROUP, node_hw_profile='mgmt-generic', node_mgmt_ip='10.231.0.10',
                             node_mgmt_mac=mac(1, 10), node_bmc_ip='10.233.0.10', node_bmc_mac=mac(3, 10))}
    gpu_nodes = []
    for i in range(1, gpus + 1):
        name = 'gpu-%02d' % i
        gpu_nodes.append(name)
        hosts[name] = dict(GROUP, node_hw_profile='hgx-h100-8gpu',
                           node_mgmt_ip='10.231.0.%d' % (100 + i), node_mgmt_mac=mac(1, 100 + i),
                           node_fabric_ip='10.232.0.%d' % (100 + i), node_fabric_mac=mac(2, 100 + i),
                           node_bmc_ip='10.233.0.%d' % (100 + i), node_bmc_mac=mac(3, 100 + i))
    hosts = copy.deepcopy(hosts)
    groups = {
        'all': sorted(hosts), 'ungrouped': [],
        'cluster': sorted(hosts), 'mgmt_nodes': ['mgmt-01'], 'gpu_nodes': gpu_nodes,
        'storage_nodes': [], 'switches': [], 'leaf_switches': [], 'spine_switches': [],
    }
    return hosts, groups


def set_group(hosts, path, value):
    """Set a group-level variable (dotted path) on every host, as group_vars/all would."""
    for host_vars in hosts.values():
        keys = path.split('.')
        target = host_vars
        for key in keys[:-1]:
            target[key] = copy.deepcopy(target[key])
            target = target[key]
        if value is DELETE:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(value)


DELETE = object()


def problems(hosts, groups, rules=None, errors=None):
    result = ic.check_inventory(hosts, groups, rules, errors)
    for message in result:
        assert SECRET not in message
        assert re.match(r'^[A-Za-z0-9_.-]+: ', message), message
    return result


def only(result, pattern):
    """Exactly one problem, matching pattern."""
    assert len(result) == 1, result
    assert re.search(pattern, result[0]), result[0]
    return result[0]


# --- valid inventories ----------------------------------------------------------------

def test_good_inventory_has_no_problems():
    assert problems(*lab()) == []


def test_large_good_inventory_has_no_problems():
    assert problems(*lab(gpus=140)) == []


def test_switch_only_needs_mgmt_ip():
    hosts, groups = lab()
    hosts['leaf-01'] = dict(GROUP, node_mgmt_ip='10.231.0.2', switch_platform='sonic')
    groups['switches'] = ['leaf-01']
    groups['leaf_switches'] = ['leaf-01']
    assert problems(hosts, groups) == []


def test_optional_vars_may_be_absent():
    hosts, groups = lab()
    for var in ('node_bmc_mac', 'node_fabric_mac'):
        del hosts['gpu-01'][var]
    assert problems(hosts, groups) == []


def test_gateway_is_optional():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.mgmt.gateway', DELETE)
    assert problems(hosts, groups) == []


def test_supported_node_os_override():
    hosts, groups = lab()
    hosts['gpu-01']['node_os'] = 'ubuntu-24.04'
    assert problems(hosts, groups) == []


def test_ipv6_network():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric', {'cidr': 'fd00:232::/64', 'mtu': 9000})
    for host, host_vars in hosts.items():
        if 'node_fabric_ip' in host_vars:
            host_vars['node_fabric_ip'] = 'fd00:232::%s' % host_vars['node_fabric_ip'].rsplit('.', 1)[1]
    assert problems(hosts, groups) == []


# --- group-level variables ------------------------------------------------------------

@pytest.mark.parametrize('cidr, pattern', [
    ('10.231.0.0/33', r"^all: cluster_networks\.mgmt\.cidr '10\.231\.0\.0/33' is not a valid CIDR; allowed: "),
    ('10.231.0', r"^all: cluster_networks\.mgmt\.cidr '10\.231\.0' is not a valid CIDR"),
    ('banana/24', r"^all: cluster_networks\.mgmt\.cidr 'banana/24' is not a valid CIDR"),
    ('10.231.0.5/24', r"'10\.231\.0\.5/24' has host bits set; allowed: the network address, 10\.231\.0\.0/24"),
    ('10.231.0.0/31', r"'10\.231\.0\.0/31' has no room for hosts"),
])
def test_invalid_cidr(cidr, pattern):
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.mgmt.cidr', cidr)
    set_group(hosts, 'cluster_networks.mgmt.gateway', DELETE)
    # host checks of an invalid network are skipped: one message only
    only(problems(hosts, groups), pattern)


def test_missing_cidr():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.bmc.cidr', DELETE)
    set_group(hosts, 'cluster_networks.bmc.gateway', DELETE)
    only(problems(hosts, groups), r"^all: cluster_networks\.bmc\.cidr is not defined; required: ")


def test_networks_overlap():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.cidr', '10.232.0.0/15')
    only(problems(hosts, groups),
         r"^all: cluster_networks\.bmc\.cidr '10\.233\.0\.0/24' overlaps cluster_networks\.fabric\.cidr "
         r"'10\.232\.0\.0/15'; allowed: networks that do not overlap$")


def test_missing_network_and_unknown_network():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.storage', {'cidr': '10.240.0.0/24', 'mtu': 9000})
    set_group(hosts, 'cluster_networks.fabric', DELETE)
    result = problems(hosts, groups)
    assert any(re.match(r'^all: cluster_networks\.fabric is not defined; required', m) for m in result), result
    assert any(re.match(r'^all: cluster_networks\.storage is not a known network; allowed: mgmt, fabric, bmc$', m)
               for m in result), result


def test_networks_not_a_mapping():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks', ['10.231.0.0/24'])
    only(problems(hosts, groups), r"^all: cluster_networks '.*' is not a mapping; allowed: ")


def test_networks_missing():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks', DELETE)
    only(problems(hosts, groups), r'^all: cluster_networks is not defined; required: ')


@pytest.mark.parametrize('gateway, pattern', [
    ('10.9.9.1', r"^all: cluster_networks\.mgmt\.gateway '10\.9\.9\.1' is outside 10\.231\.0\.0/24; "
                 r"allowed: 10\.231\.0\.1-10\.231\.0\.254$"),
    ('10.231.0.0', r"'10\.231\.0\.0' is the network address of 10\.231\.0\.0/24"),
    ('10.231.0.255', r"'10\.231\.0\.255' is the broadcast address of 10\.231\.0\.0/24"),
    ('10.231.0.256', r"'10\.231\.0\.256' is not a valid IP address"),
    ('gateway.lab', r"'gateway\.lab' is not a valid IP address"),
])
def test_bad_gateway(gateway, pattern):
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.mgmt.gateway', gateway)
    only(problems(hosts, groups), pattern if pattern.startswith('^') else r'^all: cluster_networks\.mgmt\.gateway ' + pattern)


@pytest.mark.parametrize('mtu, pattern', [
    (100, r"^all: cluster_networks\.mgmt\.mtu '100' is out of range; allowed 1280-9000$"),
    (9216, r"^all: cluster_networks\.mgmt\.mtu '9216' is out of range; allowed 1280-9000$"),
    ('jumbo', r"^all: cluster_networks\.mgmt\.mtu 'jumbo' is not an integer; allowed 1280-9000$"),
    (1500.5, r"^all: cluster_networks\.mgmt\.mtu '1500\.5' is not an integer"),
    (True, r"^all: cluster_networks\.mgmt\.mtu 'true' is not an integer"),
])
def test_bad_mtu(mtu, pattern):
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.mgmt.mtu', mtu)
    only(problems(hosts, groups), pattern)


def test_mtu_missing_and_rules_override():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.mtu', DELETE)
    only(problems(hosts, groups), r'^all: cluster_networks\.fabric\.mtu is not defined; required: an integer 1280-9000$')
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.mtu', 9216)
    assert problems(hosts, groups, rules={'mtu_max': 9216}) == []
    assert problems(hosts, groups, rules={'mtu_max': '9216'}) == []


def test_mtu_digit_string_accepted():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.mgmt.mtu', '1500')
    assert problems(hosts, groups) == []


@pytest.mark.parametrize('var, value', [
    ('cluster_name', 'AIFabric_Lab'),
    ('cluster_name', '-lab'),
    ('cluster_domain', 'lab..aifabric'),
    ('cluster_domain', 'x' * 64 + '.internal'),
])
def test_bad_dns_names(var, value):
    hosts, groups = lab()
    set_group(hosts, var, value)
    only(problems(hosts, groups), r"^all: %s '%s' is not a valid DNS name; allowed: " % (var, re.escape(value)))


@pytest.mark.parametrize('var', ['cluster_name', 'cluster_domain'])
def test_missing_dns_names(var):
    hosts, groups = lab()
    set_group(hosts, var, DELETE)
    only(problems(hosts, groups), r'^all: %s is not defined or empty; required: ' % var)


def test_unsupported_cluster_os():
    hosts, groups = lab()
    set_group(hosts, 'cluster_os', 'centos-7')
    only(problems(hosts, groups),
         r"^all: cluster_os 'centos-7' is not supported; allowed: debian-12, ubuntu-22\.04, ubuntu-24\.04, rhel-9, rocky-9$")


def test_supported_os_from_rules():
    hosts, groups = lab()
    set_group(hosts, 'cluster_os', 'debian-13')
    assert problems(hosts, groups, rules={'supported_os': ['debian-12', 'debian-13']}) == []


def test_missing_cluster_os():
    hosts, groups = lab()
    set_group(hosts, 'cluster_os', DELETE)
    only(problems(hosts, groups), r'^all: cluster_os is not defined or empty; required, allowed: debian-12')


@pytest.mark.parametrize('servers, pattern', [
    (['ntp.example.org'], r"^all: cluster_ntp_servers\[0\] 'ntp\.example\.org' is not an IP address; allowed: "),
    (['10.231.0.10', '10.231.0.300'], r"^all: cluster_ntp_servers\[1\] '10\.231\.0\.300' is not an IP address"),
    ([], r'^all: cluster_ntp_servers is empty; required: a non-empty list of IP addresses$'),
    ('10.231.0.10', r"^all: cluster_ntp_servers '10\.231\.0\.10' is not a list"),
    (DELETE, r'^all: cluster_ntp_servers is not defined; required: '),
])
def test_bad_ntp_servers(servers, pattern):
    hosts, groups = lab()
    set_group(hosts, 'cluster_ntp_servers', servers)
    only(problems(hosts, groups), pattern)


def test_ntp_ipv6_ok():
    hosts, groups = lab()
    set_group(hosts, 'cluster_ntp_servers', ['10.231.0.10', 'fd00::123'])
    assert problems(hosts, groups) == []


@pytest.mark.parametrize('var', ['cluster_bmc_username', 'cluster_bmc_password'])
@pytest.mark.parametrize('value, pattern', [
    (DELETE, r'is not defined; required: a non-empty string'),
    ('', r'is empty; allowed: a non-empty string'),
    ('   ', r'is empty; allowed: a non-empty string'),
    (None, r'is not a string \(value hidden\)'),
    (12345, r'is not a string \(value hidden\)'),
])
def test_bmc_credentials(var, value, pattern):
    hosts, groups = lab()
    set_group(hosts, var, value)
    message = only(problems(hosts, groups), r'^all: %s %s' % (var, pattern))
    assert '12345' not in message


def test_secret_never_in_messages():
    hosts, groups = lab()
    set_group(hosts, 'cluster_bmc_password', SECRET)
    set_group(hosts, 'cluster_ntp_servers', [])
    hosts['gpu-01']['cluster_bmc_password'] = 'other-' + SECRET   # a host override
    for message in problems(hosts, groups):
        assert 'Secret' not in message


def test_template_error_is_a_problem():
    hosts, groups = lab()
    errors = {}
    for host in hosts:
        del hosts[host]['cluster_bmc_password']
        errors[host] = {'cluster_bmc_password': "'vault_cluster_bmc_password' is undefined"}
    errors['gpu-02']['node_mgmt_ip'] = "'nope' is undefined"
    del hosts['gpu-02']['node_mgmt_ip']
    result = problems(hosts, groups, errors=errors)
    assert len(result) == 2, result
    assert result[0] == ("all: cluster_bmc_password cannot be templated: 'vault_cluster_bmc_password' is "
                         "undefined; allowed: a non-empty value, kept in ansible-vault")
    assert re.match(r"^gpu-02: node_mgmt_ip cannot be templated: 'nope' is undefined; allowed: ", result[1])


def test_template_error_of_secret_hides_the_text():
    hosts, groups = lab()
    errors = dict((host, {'cluster_bmc_password': 'template error near "s3cr{{et"'}) for host in hosts)
    for host in hosts:
        del hosts[host]['cluster_bmc_password']
    message = only(problems(hosts, groups, errors=errors), r'^all: cluster_bmc_password cannot be templated: ')
    assert 's3cr' not in message


@pytest.mark.parametrize('repos, pattern', [
    ([dict(GROUP['cluster_apt_repositories'][0], uris='ftp://mirror/debian')],
     r"^all: cluster_apt_repositories\[0\]\.uris 'ftp://mirror/debian' is not an http\(s\) URL; "),
    ([dict(GROUP['cluster_apt_repositories'][0], key_url='/etc/apt/key.asc')],
     r"^all: cluster_apt_repositories\[0\]\.key_url '/etc/apt/key\.asc' is not an http\(s\) URL; "),
    ([dict(GROUP['cluster_apt_repositories'][0], name='')],
     r'^all: cluster_apt_repositories\[0\]\.name is not defined or empty; required: a non-empty value$'),
    ([dict(GROUP['cluster_apt_repositories'][0], uris=['https://a/debian', 'mirror'])],
     r"^all: cluster_apt_repositories\[0\]\.uris 'mirror' is not an http\(s\) URL"),
    (GROUP['cluster_apt_repositories'] * 2,
     r"^all: cluster_apt_repositories\[1\]\.name 'aifabric-lab' is also used by cluster_apt_repositories\[0\]"),
    (['http://mirror/debian'], r"^all: cluster_apt_repositories\[0\] 'http://mirror/debian' is not a mapping"),
    ({'name': 'x'}, r"^all: cluster_apt_repositories '.*' is not a list"),
])
def test_bad_apt_repositories(repos, pattern):
    hosts, groups = lab()
    set_group(hosts, 'cluster_apt_repositories', repos)
    only(problems(hosts, groups), pattern)


def test_apt_repositories_may_be_empty_list():
    hosts, groups = lab()
    set_group(hosts, 'cluster_apt_repositories', [])
    assert problems(hosts, groups) == []


def test_group_problem_reported_once():
    hosts, groups = lab(gpus=40)
    set_group(hosts, 'cluster_networks.mgmt.mtu', 100)
    assert problems(hosts, groups) == ["all: cluster_networks.mgmt.mtu '100' is out of range; allowed 1280-9000"]


def test_group_var_overridden_by_one_host_is_reported_for_that_host():
    hosts, groups = lab()
    hosts['gpu-03']['cluster_os'] = 'centos-7'
    only(problems(hosts, groups), r"^gpu-03: cluster_os 'centos-7' is not supported")


def test_host_with_own_networks_is_checked_against_them():
    hosts, groups = lab()
    hosts['gpu-03']['cluster_networks'] = copy.deepcopy(GROUP['cluster_networks'])
    hosts['gpu-03']['cluster_networks']['mgmt']['mtu'] = 100
    hosts['gpu-03']['cluster_networks']['mgmt']['cidr'] = '10.99.0.0/24'
    result = problems(hosts, groups)
    assert "gpu-03: cluster_networks.mgmt.mtu '100' is out of range; allowed 1280-9000" in result
    assert any(m.startswith("gpu-03: node_mgmt_ip '10.231.0.103' is outside 10.99.0.0/24") for m in result), result


def test_empty_cluster():
    _hosts, groups = lab()
    for group in ('cluster', 'mgmt_nodes', 'gpu_nodes', 'all'):
        groups[group] = []
    only(problems({}, groups), r"^all: group 'cluster' has no hosts; required: ")


# --- host variables -------------------------------------------------------------------

@pytest.mark.parametrize('name', ['GPU-01', 'gpu_01', '-gpu', 'gpu-', 'g' * 64, 'gpu-01.lab'])
def test_bad_hostname(name):
    hosts, groups = lab()
    hosts[name] = hosts.pop('gpu-01')
    groups['gpu_nodes'] = [name if h == 'gpu-01' else h for h in groups['gpu_nodes']]
    groups['cluster'] = [name if h == 'gpu-01' else h for h in groups['cluster']]
    only(problems(hosts, groups),
         r"^%s: inventory_hostname '%s' is not a valid hostname; allowed: a lowercase RFC 1123 label"
         % (re.escape(name), re.escape(name)))


def test_hostname_63_chars_ok():
    hosts, groups = lab()
    name = 'g' * 63
    hosts[name] = hosts.pop('gpu-01')
    groups['gpu_nodes'] = [name if h == 'gpu-01' else h for h in groups['gpu_nodes']]
    groups['cluster'] = [name if h == 'gpu-01' else h for h in groups['cluster']]
    assert problems(hosts, groups) == []


@pytest.mark.parametrize('host, var, why', [
    ('gpu-02', 'node_mgmt_ip', 'every host in cluster and switches'),
    ('gpu-02', 'node_mgmt_mac', 'every host in cluster'),
    ('gpu-02', 'node_bmc_ip', 'every host in cluster'),
    ('gpu-02', 'node_fabric_ip', 'hosts in gpu_nodes'),
    ('mgmt-01', 'node_hw_profile', 'every host in cluster; allowed: hgx-h100-8gpu'),
])
def test_required_host_vars(host, var, why):
    hosts, groups = lab()
    del hosts[host][var]
    only(problems(hosts, groups), r'^%s: %s is not defined or empty; required for %s' % (host, var, re.escape(why)))


def test_required_empty_string_counts_as_missing():
    hosts, groups = lab()
    hosts['gpu-02']['node_bmc_ip'] = ''
    only(problems(hosts, groups), r'^gpu-02: node_bmc_ip is not defined or empty; required for every host in cluster$')


def test_switch_needs_mgmt_ip():
    hosts, groups = lab()
    hosts['spine-01'] = dict(GROUP)
    groups['switches'] = ['spine-01']
    groups['spine_switches'] = ['spine-01']
    only(problems(hosts, groups), r'^spine-01: node_mgmt_ip is not defined or empty; required for every host in cluster and switches$')


def test_fabric_ip_optional_on_mgmt_node_but_checked():
    hosts, groups = lab()
    hosts['mgmt-01']['node_fabric_ip'] = '10.231.0.20'
    only(problems(hosts, groups),
         r"^mgmt-01: node_fabric_ip '10\.231\.0\.20' is outside 10\.232\.0\.0/24 \(cluster_networks\.fabric\); "
         r"allowed: 10\.232\.0\.1-10\.232\.0\.254$")


@pytest.mark.parametrize('value, pattern', [
    ('10.231.0.300', r"^gpu-02: node_mgmt_ip '10\.231\.0\.300' is not a valid IP address; allowed: an address in "
                     r"cluster_networks\.mgmt\.cidr 10\.231\.0\.0/24$"),
    ('10.231.0.102/24', r"'10\.231\.0\.102/24' is not a valid IP address"),
    ('10.231.102', r"'10\.231\.102' is not a valid IP address"),
    ('010.231.0.102', r"'010\.231\.0\.102' is not a valid IP address"),
    (167837798, r"'167837798' is not a valid IP address"),
    ('10.9.0.5', r"'10\.9\.0\.5' is outside 10\.231\.0\.0/24 \(cluster_networks\.mgmt\); allowed: 10\.231\.0\.1-10\.231\.0\.254$"),
    ('fd00::5', r"'fd00::5' is outside 10\.231\.0\.0/24"),
    ('10.231.0.0', r"'10\.231\.0\.0' is the network address of 10\.231\.0\.0/24"),
    ('10.231.0.255', r"'10\.231\.0\.255' is the broadcast address of 10\.231\.0\.0/24"),
    ('10.231.0.1', r"^gpu-02: node_mgmt_ip '10\.231\.0\.1' is the gateway of cluster_networks\.mgmt; "
                   r"allowed: any other address in 10\.231\.0\.0/24$"),
])
def test_bad_host_ip(value, pattern):
    hosts, groups = lab()
    hosts['gpu-02']['node_mgmt_ip'] = value
    only(problems(hosts, groups), pattern)


@pytest.mark.parametrize('var, value, pattern', [
    ('node_fabric_ip', '10.232.0.255', r"^gpu-03: node_fabric_ip '10\.232\.0\.255' is the broadcast address"),
    ('node_bmc_ip', '10.233.0.1', r"^gpu-03: node_bmc_ip '10\.233\.0\.1' is the gateway of cluster_networks\.bmc"),
    ('node_bmc_ip', '10.231.0.103', r"^gpu-03: node_bmc_ip '10\.231\.0\.103' is outside 10\.233\.0\.0/24"),
])
def test_bad_fabric_and_bmc_ips(var, value, pattern):
    hosts, groups = lab()
    hosts['gpu-03'][var] = value
    only(problems(hosts, groups), pattern)


def test_duplicate_ip():
    hosts, groups = lab()
    hosts['gpu-02']['node_mgmt_ip'] = '10.231.0.101'
    assert problems(hosts, groups) == [
        "gpu-02: node_mgmt_ip '10.231.0.101' is also used by gpu-01 (node_mgmt_ip); every address must be unique"]


def test_duplicate_ip_reported_against_first_host_in_natural_order():
    hosts, groups = lab(gpus=12)
    hosts['gpu-02']['node_bmc_ip'] = '10.233.0.112'
    only(problems(hosts, groups),
         r"^gpu-12: node_bmc_ip '10\.233\.0\.112' is also used by gpu-02 \(node_bmc_ip\)")


def test_duplicate_ip_with_a_switch():
    hosts, groups = lab()
    hosts['leaf-01'] = dict(GROUP, node_mgmt_ip='10.231.0.10')
    groups['switches'] = ['leaf-01']
    groups['leaf_switches'] = ['leaf-01']
    only(problems(hosts, groups), r"^mgmt-01: node_mgmt_ip '10\.231\.0\.10' is also used by leaf-01 \(node_mgmt_ip\)")


@pytest.mark.parametrize('value, pattern', [
    ('0a:af:01:00:00', r"^gpu-02: node_mgmt_mac '0a:af:01:00:00' is not a valid MAC address; allowed: six hex pairs"),
    ('0a-af-01-00-00-66', r"'0a-af-01-00-00-66' is not a valid MAC address"),
    ('0a:af:01:00:00:zz', r"'0a:af:01:00:00:zz' is not a valid MAC address"),
    ('00:00:00:00:00:00', r"'00:00:00:00:00:00' is all zero"),
    ('ff:ff:ff:ff:ff:ff', r"'ff:ff:ff:ff:ff:ff' is the broadcast address"),
    ('01:00:5e:00:00:01', r"'01:00:5e:00:00:01' is a multicast address"),
])
def test_bad_mac(value, pattern):
    hosts, groups = lab()
    hosts['gpu-02']['node_mgmt_mac'] = value
    only(problems(hosts, groups), pattern)


def test_duplicate_mac_case_insensitive():
    hosts, groups = lab()
    hosts['gpu-02']['node_bmc_mac'] = mac(1, 101).upper()
    assert problems(hosts, groups) == [
        "gpu-02: node_bmc_mac '0A:AF:01:00:00:65' is also used by gpu-01 (node_mgmt_mac); "
        "every MAC address must be unique"]


def test_unknown_hw_profile():
    hosts, groups = lab()
    hosts['gpu-04']['node_hw_profile'] = 'hgx-b200-8gpu'
    only(problems(hosts, groups), r"^gpu-04: node_hw_profile 'hgx-b200-8gpu' is not a known hardware profile; "
                                  r"allowed: hgx-h100-8gpu, hgx-a100-8gpu")


def test_unsupported_node_os():
    hosts, groups = lab()
    hosts['gpu-03']['node_os'] = 'centos-7'
    assert problems(hosts, groups) == [
        "gpu-03: node_os 'centos-7' is not supported; allowed: debian-12, ubuntu-22.04, ubuntu-24.04, rhel-9, rocky-9"]


def test_empty_node_os():
    hosts, groups = lab()
    hosts['gpu-03']['node_os'] = ''
    only(problems(hosts, groups), r'^gpu-03: node_os is empty; allowed: unset')


# --- several problems at once ---------------------------------------------------------

def test_all_problems_reported_in_one_run():
    hosts, groups = lab(gpus=8)
    set_group(hosts, 'cluster_networks.mgmt.mtu', 100)
    set_group(hosts, 'cluster_ntp_servers', ['ntp.example.org'])
    set_group(hosts, 'cluster_bmc_password', '')
    hosts['gpu-02']['node_mgmt_ip'] = '10.231.0.101'
    hosts['gpu-03']['node_os'] = 'centos-7'
    hosts['gpu-04']['node_fabric_mac'] = 'zz'
    hosts['gpu-05']['node_hw_profile'] = 'toaster'
    del hosts['gpu-06']['node_bmc_ip']
    hosts['gpu-07']['node_bmc_ip'] = '10.233.0.255'
    result = problems(hosts, groups)
    assert result == [
        'all: cluster_networks.mgmt.mtu \'100\' is out of range; allowed 1280-9000',
        "all: cluster_ntp_servers[0] 'ntp.example.org' is not an IP address; allowed: an IPv4 or IPv6 address",
        'all: cluster_bmc_password is empty; allowed: a non-empty string, kept in ansible-vault',
        "gpu-02: node_mgmt_ip '10.231.0.101' is also used by gpu-01 (node_mgmt_ip); every address must be unique",
        "gpu-03: node_os 'centos-7' is not supported; allowed: debian-12, ubuntu-22.04, ubuntu-24.04, rhel-9, rocky-9",
        "gpu-04: node_fabric_mac 'zz' is not a valid MAC address; allowed: " + ic.MAC_ALLOWED,
        "gpu-05: node_hw_profile 'toaster' is not a known hardware profile; allowed: "
        "hgx-h100-8gpu, hgx-a100-8gpu, pcie-l40s-4gpu, dgx-h100, mgmt-generic, storage-generic",
        'gpu-06: node_bmc_ip is not defined or empty; required for every host in cluster',
        "gpu-07: node_bmc_ip '10.233.0.255' is the broadcast address of 10.233.0.0/24 (cluster_networks.bmc); "
        "allowed: 10.233.0.1-10.233.0.254",
    ]


def test_messages_are_deduplicated_and_single_line():
    hosts, groups = lab()
    hosts['gpu-02']['node_hw_profile'] = 'a\nb' + 'x' * 200
    message = only(problems(hosts, groups), r"^gpu-02: node_hw_profile 'a bx+\.\.\.' is not a known")
    assert '\n' not in message


def test_helpers():
    assert ic.natural_key('gpu-2') < ic.natural_key('gpu-10')
    assert ic.show(None) == 'null'
    assert ic.show({'a': 1}) == '{a: 1}'
    assert ic.is_dns_name('lab.aifabric.internal.')
    assert not ic.is_dns_name('')
    assert ic.normalize_mac('0A:AF:01:00:00:65') == '0a:af:01:00:00:65'
    assert ic.to_ip('fd00::1') is not None
    assert ic.to_ip(' 10.0.0.1') is None
