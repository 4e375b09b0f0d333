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
    'cluster_fabric_qos': {
        'roce_dscp': 26, 'cnp_dscp': 48, 'lossless_priority': 3, 'cnp_priority': 6, 'switch_mtu': 9216,
        'ecn': {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7},
        'pfc_watchdog': {'enabled': True, 'interval_ms': 200, 'restore_ms': 400},
    },
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
    set_group(hosts, 'cluster_networks.mgmt.mtu', 9216)
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


# --- the fabric intent: cluster_fabric_qos --------------------------------------------

QOS_KEYS = 'roce_dscp, cnp_dscp, lossless_priority, cnp_priority, switch_mtu, ecn, pfc_watchdog'


def test_fabric_qos_missing():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos', DELETE)
    assert problems(hosts, groups) == [
        'all: cluster_fabric_qos is not defined; required: a mapping with keys ' + QOS_KEYS]


def test_fabric_qos_not_a_mapping():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos', [26, 48])
    only(problems(hosts, groups), r"^all: cluster_fabric_qos '\[26, 48\]' is not a mapping; allowed: a mapping "
                                  r"with keys roce_dscp, ")


@pytest.mark.parametrize('path, value, message', [
    ('roce_dscp', 64, "all: cluster_fabric_qos.roce_dscp '64' is out of range; allowed 0-63"),
    ('cnp_dscp', -1, "all: cluster_fabric_qos.cnp_dscp '-1' is out of range; allowed 0-63"),
    ('lossless_priority', 8, "all: cluster_fabric_qos.lossless_priority '8' is out of range; allowed 0-7"),
    ('cnp_priority', 9, "all: cluster_fabric_qos.cnp_priority '9' is out of range; allowed 0-7"),
    ('switch_mtu', 9217, "all: cluster_fabric_qos.switch_mtu '9217' is out of range; allowed 1500-9216"),
    ('switch_mtu', 1400, "all: cluster_fabric_qos.switch_mtu '1400' is out of range; allowed 1500-9216"),
    ('ecn.drop_probability', 0, "all: cluster_fabric_qos.ecn.drop_probability '0' is out of range; allowed 1-100"),
    ('ecn.drop_probability', 101,
     "all: cluster_fabric_qos.ecn.drop_probability '101' is out of range; allowed 1-100"),
    ('ecn.min_threshold_kbytes', 0,
     "all: cluster_fabric_qos.ecn.min_threshold_kbytes '0' is out of range; allowed: a positive integer"),
    ('pfc_watchdog.interval_ms', 50,
     "all: cluster_fabric_qos.pfc_watchdog.interval_ms '50' is out of range; allowed 100-1000"),
    ('pfc_watchdog.restore_ms', 60001,
     "all: cluster_fabric_qos.pfc_watchdog.restore_ms '60001' is out of range; allowed 100-60000"),
])
def test_fabric_qos_out_of_range(path, value, message):
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.' + path, value)
    assert problems(hosts, groups) == [message]


@pytest.mark.parametrize('value, message', [
    ('26', "all: cluster_fabric_qos.roce_dscp '26' is a string, not an integer; allowed: an integer 0-63, unquoted"),
    (True, "all: cluster_fabric_qos.roce_dscp 'true' is a boolean, not an integer; allowed: an integer 0-63"),
    (26.0, "all: cluster_fabric_qos.roce_dscp '26.0' is not an integer; allowed: an integer 0-63"),
    (None, 'all: cluster_fabric_qos.roce_dscp is not defined; required: an integer 0-63'),
    (DELETE, 'all: cluster_fabric_qos.roce_dscp is not defined; required: an integer 0-63'),
])
def test_fabric_qos_ints_must_be_ints(value, message):
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.roce_dscp', value)
    assert problems(hosts, groups) == [message]


@pytest.mark.parametrize('value', ['yes', 'true', 1, None])
def test_fabric_qos_watchdog_enabled_must_be_bool(value):
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdog.enabled', value)
    if value is None:
        expected = 'all: cluster_fabric_qos.pfc_watchdog.enabled is not defined; required: true or false'
    else:
        expected = ("all: cluster_fabric_qos.pfc_watchdog.enabled '%s' is not a boolean; allowed: true or false"
                    % ic.show(value))
    assert problems(hosts, groups) == [expected]


def test_fabric_qos_watchdog_may_be_disabled():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdog.enabled', False)
    assert problems(hosts, groups) == []


@pytest.mark.parametrize('path', ['ecn', 'pfc_watchdog'])
def test_fabric_qos_sub_mapping_missing_or_wrong(path):
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.' + path, DELETE)
    only(problems(hosts, groups), r'^all: cluster_fabric_qos\.%s is not defined; required: a mapping with keys ' % path)
    set_group(hosts, 'cluster_fabric_qos.' + path, 'on')
    only(problems(hosts, groups), r"^all: cluster_fabric_qos\.%s 'on' is not a mapping; allowed: " % path)


def test_fabric_qos_typo_is_one_problem():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.roce_dscp', DELETE)
    set_group(hosts, 'cluster_fabric_qos.roce_dcsp', 26)
    set_group(hosts, 'cluster_fabric_qos.ecn.max_treshold_kbytes', 3000)
    set_group(hosts, 'cluster_fabric_qos.ecn.max_threshold_kbytes', DELETE)
    assert problems(hosts, groups) == [
        'all: cluster_fabric_qos.roce_dcsp is not a known key (did you mean roce_dscp?); allowed: ' + QOS_KEYS,
        'all: cluster_fabric_qos.ecn.max_treshold_kbytes is not a known key (did you mean max_threshold_kbytes?); '
        'allowed: min_threshold_kbytes, max_threshold_kbytes, drop_probability',
    ]


def test_fabric_qos_misspelt_sub_mapping_is_one_problem():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdg', GROUP['cluster_fabric_qos']['pfc_watchdog'])
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdog', DELETE)
    assert problems(hosts, groups) == [
        'all: cluster_fabric_qos.pfc_watchdg is not a known key (did you mean pfc_watchdog?); allowed: ' + QOS_KEYS]


def test_fabric_qos_unknown_key():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.trust', 'dscp')
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdog.action', 'drop')
    assert problems(hosts, groups) == [
        'all: cluster_fabric_qos.trust is not a known key; allowed: ' + QOS_KEYS,
        'all: cluster_fabric_qos.pfc_watchdog.action is not a known key; allowed: enabled, interval_ms, restore_ms',
    ]


def test_fabric_qos_cnp_dscp_equals_roce_dscp():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.cnp_dscp', 26)
    assert problems(hosts, groups) == [
        "all: cluster_fabric_qos.cnp_dscp '26' is the same as cluster_fabric_qos.roce_dscp; "
        "allowed: a DSCP 0-63 other than 26"]


def test_fabric_qos_cnp_priority_equals_lossless_priority():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.cnp_priority', 3)
    only(problems(hosts, groups), r"^all: cluster_fabric_qos\.cnp_priority '3' is the same as "
                                  r"cluster_fabric_qos\.lossless_priority; allowed: a priority 0-7 other than 3")


def test_fabric_qos_ecn_min_not_below_max():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.ecn.min_threshold_kbytes', 3000)
    assert problems(hosts, groups) == [
        "all: cluster_fabric_qos.ecn.min_threshold_kbytes '3000' is not below "
        "cluster_fabric_qos.ecn.max_threshold_kbytes '3000'; allowed: a minimum threshold smaller than the maximum"]


def test_fabric_qos_watchdog_restore_shorter_than_interval():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.pfc_watchdog.restore_ms', 100)
    assert problems(hosts, groups) == [
        "all: cluster_fabric_qos.pfc_watchdog.restore_ms '100' is shorter than "
        "cluster_fabric_qos.pfc_watchdog.interval_ms '200'; allowed 200-60000"]


@pytest.mark.parametrize('host_mtu, switch_mtu, ok', [
    (9000, 9216, True), (9000, 9022, True), (9000, 9021, False), (9000, 9000, False), (1500, 1522, True),
])
def test_fabric_mtu_plus_overhead_fits_switch_mtu(host_mtu, switch_mtu, ok):
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.mtu', host_mtu)
    set_group(hosts, 'cluster_fabric_qos.switch_mtu', switch_mtu)
    if ok:
        assert problems(hosts, groups) == []
    else:
        assert problems(hosts, groups) == [
            "all: cluster_fabric_qos.switch_mtu '%d' is too small for cluster_networks.fabric.mtu '%d' plus 22 "
            "bytes of L2 overhead (14 Ethernet, 4 802.1Q, 4 FCS); allowed: at least %d, or a smaller "
            "cluster_networks.fabric.mtu" % (switch_mtu, host_mtu, host_mtu + 22)]


def test_fabric_mtu_check_uses_the_rules():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.mtu', 9216)
    # the fabric MTU itself is allowed by the rules, but 9216 + 22 exceeds any switch MTU
    only(problems(hosts, groups, rules={'mtu_max': 9216}), r"^all: cluster_fabric_qos\.switch_mtu '9216' is too small "
                                                           r"for cluster_networks\.fabric\.mtu '9216'")
    set_group(hosts, 'cluster_networks.fabric.mtu', 9100)
    set_group(hosts, 'cluster_fabric_qos.switch_mtu', 9300)
    assert problems(hosts, groups, rules={'mtu_max': 9216, 'switch_mtu_max': '9300'}) == []


def test_fabric_mtu_check_skipped_when_host_mtu_invalid():
    hosts, groups = lab()
    set_group(hosts, 'cluster_networks.fabric.mtu', 'jumbo')
    set_group(hosts, 'cluster_fabric_qos.switch_mtu', 1500)
    only(problems(hosts, groups), r"^all: cluster_networks\.fabric\.mtu 'jumbo' is not an integer")


def test_fabric_mtu_override_on_one_host_reported_for_that_host():
    hosts, groups = lab()
    hosts['gpu-02']['cluster_networks'] = copy.deepcopy(GROUP['cluster_networks'])
    hosts['gpu-02']['cluster_networks']['fabric']['mtu'] = 9200
    assert problems(hosts, groups, rules={'mtu_max': 9216}) == [
        "gpu-02: cluster_fabric_qos.switch_mtu '9216' is too small for cluster_networks.fabric.mtu '9200' plus 22 "
        "bytes of L2 overhead (14 Ethernet, 4 802.1Q, 4 FCS); allowed: at least 9222, or a smaller "
        "cluster_networks.fabric.mtu"]


def test_fabric_qos_override_on_one_host():
    hosts, groups = lab()
    hosts['gpu-03']['cluster_fabric_qos'] = copy.deepcopy(GROUP['cluster_fabric_qos'])
    hosts['gpu-03']['cluster_fabric_qos']['roce_dscp'] = 99
    assert problems(hosts, groups) == ["gpu-03: cluster_fabric_qos.roce_dscp '99' is out of range; allowed 0-63"]


def test_fabric_qos_template_error():
    hosts, groups = lab()
    errors = {}
    for host in hosts:
        del hosts[host]['cluster_fabric_qos']
        errors[host] = {'cluster_fabric_qos': "'site_roce_dscp' is undefined"}
    assert problems(hosts, groups, errors=errors) == [
        "all: cluster_fabric_qos cannot be templated: 'site_roce_dscp' is undefined; "
        "allowed: a value whose variables are all defined"]


def test_fabric_qos_several_problems():
    hosts, groups = lab()
    set_group(hosts, 'cluster_fabric_qos.roce_dscp', 64)
    set_group(hosts, 'cluster_fabric_qos.cnp_priority', 3)
    set_group(hosts, 'cluster_fabric_qos.switch_mtu', 9000)
    set_group(hosts, 'cluster_fabric_qos.ecn.min_threshold_kbytes', 5000)
    result = problems(hosts, groups)
    assert len(result) == 4, result
    assert [m.split(' ', 2)[1] for m in result] == [
        'cluster_fabric_qos.roce_dscp', 'cluster_fabric_qos.cnp_priority', 'cluster_fabric_qos.switch_mtu',
        'cluster_fabric_qos.ecn.min_threshold_kbytes']


# --- per-link fabric addressing: switch_fabric_interfaces ------------------------------

def fabric(links_leaf=None, links_spine=None, gpus=4):
    """lab() plus leaf-01 and spine-01, with the given switch_fabric_interfaces."""
    hosts, groups = lab(gpus=gpus)
    hosts['leaf-01'] = dict(GROUP, node_mgmt_ip='10.231.0.2', switch_platform='sonic')
    hosts['spine-01'] = dict(GROUP, node_mgmt_ip='10.231.0.3', switch_platform='nxos')
    if links_leaf is not None:
        hosts['leaf-01']['switch_fabric_interfaces'] = links_leaf
    if links_spine is not None:
        hosts['spine-01']['switch_fabric_interfaces'] = links_spine
    groups['switches'] = ['leaf-01', 'spine-01']
    groups['leaf_switches'] = ['leaf-01']
    groups['spine_switches'] = ['spine-01']
    return hosts, groups


LEAF = [
    {'name': 'Ethernet0', 'peer': 'gpu-01'},
    {'name': 'Ethernet8', 'peer': 'gpu-02'},
    {'name': 'Ethernet248', 'peer': 'spine-01',
     'address': '10.20.4.1/31', 'peer_address': '10.20.4.0'},
]
SPINE = [
    {'name': 'Ethernet1/1', 'peer': 'leaf-01',
     'address': '10.20.4.0/31', 'peer_address': '10.20.4.1'},
]


def test_switch_links_valid():
    assert problems(*fabric(LEAF, SPINE)) == []


def test_switch_links_optional_and_may_be_empty():
    assert problems(*fabric()) == []
    assert problems(*fabric([], [])) == []


def test_switch_links_one_side_only_and_no_peer_address():
    links = [dict(LEAF[2])]
    del links[0]['peer_address']
    assert problems(*fabric(links)) == []


def test_routed_link_to_a_node_pairs_with_its_fabric_ip():
    # gpu-01 is 10.232.0.101: the /31 is 10.232.0.100/31, the leaf takes .100
    links = [{'name': 'Ethernet0', 'peer': 'gpu-01', 'address': '10.232.0.100/31'},
             {'name': 'Ethernet4', 'peer': 'gpu-04', 'address': '10.232.0.105/31', 'peer_address': '10.232.0.104'}]
    assert problems(*fabric(links)) == []


def test_routed_link_to_a_node_not_pairing():
    links = [{'name': 'Ethernet0', 'peer': 'gpu-02', 'address': '10.232.0.100/31'}]
    assert problems(*fabric(links)) == [
        "leaf-01: switch_fabric_interfaces[0].address '10.232.0.100/31' does not pair with gpu-02's node_fabric_ip "
        "'10.232.0.102' in one /31; allowed: 10.232.0.103/31, whose other address is gpu-02's node_fabric_ip"]


def test_routed_link_peer_address_is_not_the_node_fabric_ip():
    links = [{'name': 'Ethernet0', 'peer': 'gpu-01', 'address': '10.232.0.100/31', 'peer_address': '10.232.0.99'}]
    assert problems(*fabric(links)) == [
        "leaf-01: switch_fabric_interfaces[0].peer_address '10.232.0.99' is not gpu-01's node_fabric_ip "
        "'10.232.0.101'; allowed: 10.232.0.101 (or unset: a node's side of a routed link is its node_fabric_ip)"]


@pytest.mark.parametrize('links, message', [
    ('Ethernet0', "leaf-01: switch_fabric_interfaces 'Ethernet0' is not a list; allowed: a list of {name, peer, "),
    ({'name': 'Ethernet0'}, "leaf-01: switch_fabric_interfaces '{name: Ethernet0}' is not a list"),
    (['Ethernet0'], "leaf-01: switch_fabric_interfaces[0] 'Ethernet0' is not a mapping; allowed: {name, peer, "),
    ([{'peer': 'gpu-01'}], "leaf-01: switch_fabric_interfaces[0].name is not defined or empty; required: the "
                           "interface name on the switch, such as Ethernet1/1 (NX-OS) or Ethernet0 (SONiC)"),
    ([{'name': 8, 'peer': 'gpu-01'}], "leaf-01: switch_fabric_interfaces[0].name '8' is not a string"),
    ([{'name': 'Ethernet0'}], "leaf-01: switch_fabric_interfaces[0].peer is not defined or empty; required: the "
                              "inventory name of the host at the other end, in cluster or switches"),
    ([{'name': 'Ethernet0', 'peer': 'gpu-99'}],
     "leaf-01: switch_fabric_interfaces[0].peer 'gpu-99' is not a host of the inventory; allowed: a host in "
     "cluster or switches"),
    ([{'name': 'Ethernet0', 'peer': 'leaf-01'}],
     "leaf-01: switch_fabric_interfaces[0].peer 'leaf-01' is the switch itself; allowed: another host in cluster "
     "or switches"),
    ([{'name': 'Ethernet0', 'peer': 'gpu-01', 'peer_interface': 'Ethernet1/1'}],
     "leaf-01: switch_fabric_interfaces[0].peer_interface is not a known key; allowed: name, peer, address, "
     "peer_address"),
    ([{'name': 'Ethernet0', 'peer': 'gpu-01', 'speed': 400}],
     "leaf-01: switch_fabric_interfaces[0].speed is not a known key; allowed: name, peer, address, peer_address"),
    ([{'name': 'Ethernet0', 'per': 'gpu-01'}],
     "leaf-01: switch_fabric_interfaces[0].per is not a known key (did you mean peer?); allowed: "),
    ([{'name': 'Ethernet0', 'peer': 'gpu-01'}, {'name': 'Ethernet0', 'peer': 'gpu-02'}],
     "leaf-01: switch_fabric_interfaces[1].name 'Ethernet0' is also used by switch_fabric_interfaces[0]; allowed: "
     "a name used once per switch"),
])
def test_bad_switch_links(links, message):
    only(problems(*fabric(links)), '^' + re.escape(message))


@pytest.mark.parametrize('address', ['10.20.4.1/30', '10.20.4.1', '10.20.4.300/31', 'fd00::1/127', '10.20.4.1/031'])
def test_switch_link_address_must_be_a_31(address):
    links = [dict(LEAF[2], address=address)]
    del links[0]['peer_address']
    only(problems(*fabric(links)), r"^leaf-01: switch_fabric_interfaces\[0\]\.address '%s' is not a /31 interface "
                                   r"address; allowed: an IPv4 interface address with prefix length /31"
         % re.escape(address))


def test_switch_link_peer_address_checks():
    links = [dict(LEAF[2], peer_address='10.20.4.2')]
    assert problems(*fabric(links)) == [
        "leaf-01: switch_fabric_interfaces[0].peer_address '10.20.4.2' is not the other address of 10.20.4.0/31 "
        "(address '10.20.4.1/31'); allowed: 10.20.4.0"]
    links = [dict(LEAF[2], peer_address='10.20.4.1')]
    only(problems(*fabric(links)), r"peer_address '10\.20\.4\.1' is not the other address of 10\.20\.4\.0/31")
    links = [dict(LEAF[2], peer_address='10.20.4.0/31')]
    only(problems(*fabric(links)), r"^leaf-01: switch_fabric_interfaces\[0\]\.peer_address '10\.20\.4\.0/31' is "
                                   r"not an IPv4 address; allowed: the other address of the /31 of address")
    links = [dict(LEAF[2])]
    del links[0]['address']
    only(problems(*fabric(links)), r"^leaf-01: switch_fabric_interfaces\[0\]\.peer_address '10\.20\.4\.0' is set "
                                   r"without an address; allowed: unset, or set together with address")


def test_switch_link_address_unique_in_inventory():
    spine = [dict(SPINE[0], address='10.20.4.1/31', peer_address='10.20.4.0')]
    # both ends claim 10.20.4.1: reported once, on the later switch in natural order
    assert problems(*fabric(LEAF, spine)) == [
        "spine-01: switch_fabric_interfaces[0].address '10.20.4.1/31' is also used by leaf-01 "
        "(switch_fabric_interfaces[2].address); every address must be unique"]


def test_switch_link_address_clashes_with_a_node_and_a_gateway():
    links = [{'name': 'Ethernet0', 'peer': 'spine-01', 'address': '10.231.0.101/31'},
             {'name': 'Ethernet4', 'peer': 'spine-01', 'address': '10.231.0.1/31'}]
    assert problems(*fabric(links)) == [
        "leaf-01: switch_fabric_interfaces[0].address '10.231.0.101/31' is also used by gpu-01 (node_mgmt_ip); "
        "every address must be unique",
        "leaf-01: switch_fabric_interfaces[1].address '10.231.0.1/31' is the gateway of cluster_networks.mgmt; "
        "allowed: any other address"]


def test_node_address_after_the_switch_clashes():
    # stor-01 sorts after leaf-01: the clash is reported on the node, against the link
    hosts, groups = fabric([{'name': 'Ethernet0', 'peer': 'spine-01', 'address': '10.232.0.51/31'}])
    hosts['stor-01'] = dict(GROUP, node_hw_profile='storage-generic', node_mgmt_ip='10.231.0.51',
                            node_mgmt_mac=mac(1, 51), node_fabric_ip='10.232.0.51', node_bmc_ip='10.233.0.51')
    groups['storage_nodes'] = ['stor-01']
    groups['cluster'] = sorted(groups['cluster'] + ['stor-01'])
    assert problems(hosts, groups) == [
        "stor-01: node_fabric_ip '10.232.0.51' is also used by leaf-01 (switch_fabric_interfaces[0].address); "
        "every address must be unique"]


def test_switch_link_31_used_by_another_link():
    leaf = [LEAF[2], {'name': 'Ethernet240', 'peer': 'spine-01', 'address': '10.20.4.2/31'}]
    spine = [SPINE[0], {'name': 'Ethernet1/2', 'peer': 'gpu-01', 'address': '10.20.4.3/31'}]
    result = problems(*fabric(leaf, spine))
    assert result == [
        "spine-01: switch_fabric_interfaces[1].address '10.20.4.3/31' is in 10.20.4.2/31, already used by leaf-01 "
        "(switch_fabric_interfaces[1]) towards spine-01; allowed: a /31 used only by the two ends of one link"]


def test_switch_link_template_error():
    hosts, groups = fabric()
    errors = {'leaf-01': {'switch_fabric_interfaces': "'leaf_links' is undefined"}}
    assert problems(hosts, groups, errors=errors) == [
        "leaf-01: switch_fabric_interfaces cannot be templated: 'leaf_links' is undefined; "
        "allowed: a value whose variables are all defined"]


def test_switch_links_on_a_node_are_ignored():
    hosts, groups = lab()
    hosts['gpu-01']['switch_fabric_interfaces'] = 'not read on nodes'
    assert problems(hosts, groups) == []


def test_checked_vars_include_the_fabric_intent():
    assert 'cluster_fabric_qos' in ic.CHECKED_VARS
    assert 'switch_fabric_interfaces' in ic.CHECKED_VARS


# --- the hardware profiles: cluster_hw_profiles ---------------------------------------

HW_KEYS = ('gpu_count, gpu_product, nvlinks_per_gpu, gpu_pcie_gen, gpu_pcie_width, gpu_ecc_mode, '
           'gpu_persistence_mode, gpu_mig_mode, gpu_mig_devices, gpu_compute_mode')
HW_PROFILES = {
    'hgx-h100-8gpu': {'gpu_count': 8, 'gpu_product': 'H100 80GB HBM3', 'nvlinks_per_gpu': 18, 'gpu_pcie_gen': 5,
                      'gpu_pcie_width': 16, 'gpu_ecc_mode': True, 'gpu_persistence_mode': True,
                      'gpu_mig_mode': False},
    'pcie-l40s-4gpu': {'gpu_count': 4, 'gpu_pcie_width': 8, 'gpu_compute_mode': 'Default', 'gpu_pcie_gen': None},
    'a100-mig': {'gpu_mig_mode': True, 'gpu_mig_devices': 7},
    'mgmt-generic': {'gpu_count': 0},
    'storage-generic': {},
}


def with_profiles(value=None):
    hosts, groups = lab()
    set_group(hosts, 'cluster_hw_profiles', HW_PROFILES if value is None else value)
    return hosts, groups


def test_hw_profiles_valid_or_absent():
    assert problems(*with_profiles()) == []
    hosts, groups = lab()
    assert 'cluster_hw_profiles' not in hosts['gpu-01']
    assert problems(hosts, groups) == []


def test_lab_and_example_profiles_are_valid():
    import os
    import yaml
    root = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'inventories')
    for inventory in ('lab', 'example'):
        with open(os.path.join(root, inventory, 'group_vars', 'all', 'hardware.yml')) as fh:
            profiles = yaml.safe_load(fh)['cluster_hw_profiles']
        assert problems(*with_profiles(profiles)) == [], inventory
        assert profiles['hgx-h100-8gpu']['gpu_pcie_width'] == 16  # HGX wires x16: x8 is a fault


@pytest.mark.parametrize('key, value, message', [
    ('gpu_pcie_width', 12, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_width '12' is not one of the allowed "
                           "values; allowed: 1, 2, 4, 8, 16"),
    ('gpu_pcie_width', 'x16', "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_width 'x16' is not one of the allowed "
                              "values; allowed: 1, 2, 4, 8, 16"),
    ('gpu_pcie_width', True, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_width 'true' is not one of the allowed "
                             "values; allowed: 1, 2, 4, 8, 16"),
    ('gpu_pcie_gen', 7, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_gen '7' is out of range; allowed 1-6"),
    ('gpu_pcie_gen', '5', "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_gen '5' is a string, not an integer; "
                          "allowed: an integer 1-6, unquoted"),
    ('gpu_count', -1, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_count '-1' is out of range; allowed: an integer of "
                      "at least 0"),
    ('nvlinks_per_gpu', 1.5, "all: cluster_hw_profiles.hgx-h100-8gpu.nvlinks_per_gpu '1.5' is not an integer; "
                             "allowed: an integer of at least 0"),
    ('gpu_ecc_mode', 'yes', "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_ecc_mode 'yes' is not a boolean; allowed: "
                            "true or false"),
    ('gpu_persistence_mode', 1, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_persistence_mode '1' is not a boolean; "
                                "allowed: true or false"),
    ('gpu_product', '', "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_product '' is not a non-empty string; allowed: "
                        "text the nvidia-smi product name contains, such as H100 80GB HBM3"),
    ('gpu_compute_mode', 'Exclusive_Thread', "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_compute_mode "
                                             "'Exclusive_Thread' is not one of the allowed values; allowed: Default, "
                                             "Exclusive_Process, Prohibited"),
    ('gpu_mig_devices', 8, "all: cluster_hw_profiles.hgx-h100-8gpu.gpu_mig_devices '8' is out of range; allowed 1-7"),
])
def test_hw_profile_values(key, value, message):
    hosts, groups = with_profiles()
    set_group(hosts, 'cluster_hw_profiles.hgx-h100-8gpu.' + key, value)
    result = problems(hosts, groups)
    if key == 'gpu_mig_devices':  # also set while gpu_mig_mode is false
        assert result[0] == message and 'is set while' in result[1] and len(result) == 2, result
    else:
        assert result == [message]


def test_hw_profile_unknown_key_and_near_miss():
    hosts, groups = with_profiles()
    set_group(hosts, 'cluster_hw_profiles.a100-mig.gpu_pcie_widht', 16)
    set_group(hosts, 'cluster_hw_profiles.a100-mig.rack', 'r12')
    assert problems(hosts, groups) == [
        'all: cluster_hw_profiles.a100-mig.gpu_pcie_widht is not a known key (did you mean gpu_pcie_width?); '
        'allowed: ' + HW_KEYS,
        'all: cluster_hw_profiles.a100-mig.rack is not a known key; allowed: ' + HW_KEYS]


def test_hw_profile_shapes():
    result = problems(*with_profiles({'hgx-h100-8gpu': [8, 'H100'], 'mgmt-generic': None}))
    assert result == [
        "all: cluster_hw_profiles.hgx-h100-8gpu '[8, H100]' is not a mapping; allowed: a mapping with optional keys "
        + HW_KEYS + " ({} for a profile without expectations)",
        "all: cluster_hw_profiles.mgmt-generic 'null' is not a mapping; allowed: a mapping with optional keys "
        + HW_KEYS + " ({} for a profile without expectations)"]
    only(problems(*with_profiles(['hgx-h100-8gpu'])),
         r"^all: cluster_hw_profiles '\[hgx-h100-8gpu\]' is not a mapping; allowed: a mapping of profile name to a "
         r"mapping with optional keys gpu_count, ")


def test_hw_profile_mig_devices_need_mig_mode():
    hosts, groups = with_profiles()
    set_group(hosts, 'cluster_hw_profiles.a100-mig.gpu_mig_mode', False)
    assert problems(hosts, groups) == [
        "all: cluster_hw_profiles.a100-mig.gpu_mig_devices '7' is set while cluster_hw_profiles.a100-mig.gpu_mig_mode "
        "is false; allowed: unset, or gpu_mig_mode: true"]


def test_hw_profiles_overridden_on_one_host():
    hosts, groups = with_profiles()
    hosts['gpu-02']['cluster_hw_profiles'] = {'hgx-h100-8gpu': {'gpu_pcie_width': 32}}
    assert problems(hosts, groups) == [
        "gpu-02: cluster_hw_profiles.hgx-h100-8gpu.gpu_pcie_width '32' is not one of the allowed values; allowed: "
        "1, 2, 4, 8, 16"]


def test_hw_profiles_template_error():
    hosts, groups = with_profiles()
    errors = dict((host, {'cluster_hw_profiles': "'hgx_width' is undefined"}) for host in hosts)
    assert problems(hosts, groups, errors=errors) == [
        "all: cluster_hw_profiles cannot be templated: 'hgx_width' is undefined; allowed: a value whose variables "
        "are all defined"]


def test_checked_vars_include_the_hw_profiles():
    assert 'cluster_hw_profiles' in ic.CHECKED_VARS
