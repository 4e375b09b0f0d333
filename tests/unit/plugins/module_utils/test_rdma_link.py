# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import rdma_link as rl

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'rdma')


def tree(name):
    return os.path.join(FIXTURES, name, 'infiniband'), os.path.join(FIXTURES, name, 'net')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def read(name, **kwargs):
    root, net = tree(name)
    return rl.read_devices(root, net, **kwargs)


def ports_by_device(verdict):
    return dict((device['name'], device['ports'][0]) for device in verdict['devices'])


# ---------------------------------------------------------------------------
# small parsers

@pytest.mark.parametrize('text, expected', [
    ('4: ACTIVE', (4, 'ACTIVE')),
    ('5: LinkUp', (5, 'LinkUp')),
    ('1: DOWN\n', (1, 'DOWN')),
    ('3: Disabled', (3, 'Disabled')),
    ('ACTIVE', (None, 'ACTIVE')),
    ('', (None, None)),
    (None, (None, None)),
])
def test_parse_state(text, expected):
    assert rl.parse_state(text) == expected


@pytest.mark.parametrize('text, expected', [
    ('400 Gb/sec (4X NDR)', 400.0),
    ('200 Gb/sec (4X HDR)', 200.0),
    ('2.5 Gb/sec (1X SDR)', 2.5),
    ('100 Gb/sec (2X HDR)', 100.0),
    ('Unknown', None),
    (None, None),
])
def test_parse_rate(text, expected):
    assert rl.parse_rate(text) == expected


def test_gid_helpers():
    assert rl.gid_ipv4('0000:0000:0000:0000:0000:ffff:0a0a:010b') == '10.10.1.11'
    assert rl.gid_ipv4('0000:0000:0000:0000:0000:ffff:c0a8:320b') == '192.168.50.11'
    assert rl.gid_ipv4('fe80:0000:0000:0000:ba3f:d2ff:fe12:3456') is None
    assert rl.gid_ipv4('0000:0000:0000:0000:0001:ffff:0a0a:010b') is None
    assert rl.gid_ipv4('not a gid') is None
    assert rl.gid_is_zero('0000:0000:0000:0000:0000:0000:0000:0000') is True
    assert rl.gid_is_zero('fe80:0000:0000:0000:a088:c203:00b4:1f20') is False
    assert rl.gid_groups('fe80::1') is None


@pytest.mark.parametrize('netdev_mtu, expected', [
    (9000, 4096), (4200, 4096), (4191, 2048), (4192, 4096), (1500, 1024), (1024, 512), (300, None), (None, None),
])
def test_iboe_mtu(netdev_mtu, expected):
    assert rl.iboe_mtu(netdev_mtu) == expected


def test_read_text_and_int_missing(tmp_path):
    assert rl.read_text(str(tmp_path / 'absent')) is None
    (tmp_path / 'bad').write_text('N/A\n')
    (tmp_path / 'hex').write_text('0x1a\n')
    assert rl.read_int(str(tmp_path / 'bad')) is None
    assert rl.read_int(str(tmp_path / 'hex')) == 26
    assert rl.read_int(str(tmp_path / 'absent')) is None


# ---------------------------------------------------------------------------
# tool outputs

def test_parse_rdma_link_json_current():
    links = rl.parse_rdma_link_json(fixture('rdma-link-roce.json'))
    assert links[('mlx5_0', 1)] == {'state': 'ACTIVE', 'physical_state': 'LINK_UP', 'netdev': 'ens1f0np0',
                                    'netdev_index': 4}
    assert links[('mlx5_1', 1)]['netdev'] == 'ens2f0np0'


def test_parse_rdma_link_json_old_ifname_with_port():
    links = rl.parse_rdma_link_json(fixture('rdma-link-ib-old.json'))
    assert sorted(links) == [('mlx5_0', 1), ('mlx5_1', 1)]
    assert links[('mlx5_1', 1)]['netdev'] == 'ibp41s0'


def test_parse_rdma_link_json_edge_cases():
    assert rl.parse_rdma_link_json('[]') == {}
    assert rl.parse_rdma_link_json('{"ifname": "mlx5_2/1", "state": "DOWN"}') == {
        ('mlx5_2', 1): {'state': 'DOWN', 'physical_state': None, 'netdev': None, 'netdev_index': None}}
    assert rl.parse_rdma_link_json('[{"ifname": "mlx5_0"}, 3, {"state": "x"}]') == {}
    with pytest.raises(rl.RdmaParseError, match='not valid JSON'):
        rl.parse_rdma_link_json('link mlx5_0/1 state ACTIVE')
    with pytest.raises(rl.RdmaParseError, match='not a JSON list'):
        rl.parse_rdma_link_json('"text"')


def test_parse_ibv_devinfo():
    mtus = rl.parse_ibv_devinfo(fixture('ibv_devinfo-ib-ndr.txt'))
    assert mtus == {('mlx5_0', 1): {'active_mtu': 4096, 'max_mtu': 4096},
                    ('mlx5_1', 1): {'active_mtu': 2048, 'max_mtu': 4096}}
    assert rl.parse_ibv_devinfo('') == {}
    assert rl.parse_ibv_devinfo('No IB devices found\n') == {}


# ---------------------------------------------------------------------------
# sysfs trees

def test_ib_ndr_device_record():
    found = read('ib-ndr')
    assert found['unmatched'] == []
    assert [device['name'] for device in found['devices']] == ['mlx5_0', 'mlx5_1']
    device = found['devices'][0]
    assert dict((key, device[key]) for key in ('fw_ver', 'board_id', 'hca_type', 'node_guid')) == {
        'fw_ver': '28.39.1002', 'board_id': 'MT_0000000838', 'hca_type': 'MT4129',
        'node_guid': 'a088:c203:00b4:1f20'}
    port = device['ports'][0]
    assert (port['port'], port['state'], port['state_code'], port['phys_state'], port['phys_state_code']) == (
        1, 'ACTIVE', 4, 'LinkUp', 5)
    assert (port['rate'], port['rate_gbps'], port['link_layer']) == ('400 Gb/sec (4X NDR)', 400.0, 'InfiniBand')
    # IB: no gid_attrs/ndevs, the netdev (IPoIB) comes from device/net
    assert (port['netdev'], port['netdev_source'], port['netdev_mtu']) == ('ibp24s0', 'device', 4092)
    # no active MTU for IB without ibv_devinfo: the IPoIB MTU says nothing about it
    assert (port['active_mtu'], port['active_mtu_source']) == (None, None)
    assert port['gids'] == [{'index': 0, 'gid': 'fe80:0000:0000:0000:a088:c203:00b4:1f20', 'type': 'IB/RoCE v1',
                             'netdev': None, 'ipv4': None}]
    assert port['counters']['symbol_error'] == 0
    assert port['counters']['out_of_buffer'] == 0
    assert port['counters']['roce_adp_retrans'] is None  # RoCE-only counter
    assert set(port['counters']) == set(rl.PORT_COUNTERS + rl.HW_COUNTERS)


def test_ib_ndr_with_tools():
    links = rl.parse_rdma_link_json(fixture('rdma-link-ib-old.json'))
    devinfo = rl.parse_ibv_devinfo(fixture('ibv_devinfo-ib-ndr.txt'))
    found = read('ib-ndr', rdma_links=links, devinfo=devinfo)
    port0, port1 = [device['ports'][0] for device in found['devices']]
    assert (port0['netdev'], port0['netdev_source'], port0['rdma_state'], port0['rdma_physical_state']) == (
        'ibp24s0', 'rdma', 'ACTIVE', 'LINK_UP')
    assert (port0['active_mtu'], port0['active_mtu_source'], port0['max_mtu']) == (4096, 'ibv_devinfo', 4096)
    assert port1['active_mtu'] == 2048


def test_roce_ports():
    found = read('roce')
    fabric, storage = [device['ports'][0] for device in found['devices']]
    assert (fabric['link_layer'], fabric['rate_gbps'], fabric['netdev'], fabric['netdev_source']) == (
        'Ethernet', 400.0, 'ens1f0np0', 'gid_attrs')
    assert (fabric['netdev_mtu'], fabric['active_mtu'], fabric['active_mtu_source']) == (9000, 4096, 'netdev_mtu')
    assert [(gid['index'], gid['type'], gid['ipv4']) for gid in fabric['gids']] == [
        (0, 'IB/RoCE v1', None), (1, 'RoCE v2', None), (2, 'IB/RoCE v1', '10.10.1.11'), (3, 'RoCE v2', '10.10.1.11')]
    assert all(gid['netdev'] == 'ens1f0np0' for gid in fabric['gids'])
    assert fabric['counters']['roce_adp_retrans'] == 17
    assert fabric['counters']['packet_seq_err'] == 3
    assert fabric['counters']['np_cnp_sent'] == 1523
    assert (storage['rate_gbps'], storage['netdev_mtu'], storage['active_mtu']) == (200.0, 1500, 1024)
    assert found['devices'][1]['hca_type'] == 'MT4125'


def test_missing_counters_are_null():
    found = read('degraded')
    port = found['devices'][1]['ports'][0]
    assert port['counters']['symbol_error'] is None
    assert port['counters']['port_xmit_discards'] is None
    assert port['counters']['link_downed'] == 3
    assert all(port['counters'][name] is None for name in rl.HW_COUNTERS)  # no hw_counters/ at all


def test_extra_counters():
    found = read('roce', extra_counters=['rp_cnp_ignored', 'port_xmit_wait', 'no_such_counter', '../x'])
    counters = found['devices'][0]['ports'][0]['counters']
    assert counters['rp_cnp_ignored'] == 0
    assert counters['port_xmit_wait'] == 0
    assert counters['no_such_counter'] is None
    assert '../x' not in counters


def test_device_patterns():
    found = read('degraded', patterns=['mlx5_[01]', 'mlx5_9'])
    assert [device['name'] for device in found['devices']] == ['mlx5_0', 'mlx5_1']
    assert found['unmatched'] == ['mlx5_9']


def test_absent_root_has_no_device(tmp_path):
    assert rl.read_devices(str(tmp_path / 'infiniband')) == {'devices': [], 'unmatched': []}


def test_root_not_a_directory(tmp_path):
    path = tmp_path / 'infiniband'
    path.write_text('')
    with pytest.raises(rl.SysfsError, match='is not a directory'):
        rl.read_devices(str(path))


def test_device_without_files(tmp_path):
    (tmp_path / 'mlx5_9' / 'ports' / '1').mkdir(parents=True)
    device = rl.read_devices(str(tmp_path))['devices'][0]
    assert device['fw_ver'] is None and device['hca_type'] is None
    port = device['ports'][0]
    assert (port['state'], port['phys_state'], port['rate_gbps'], port['netdev'], port['gids']) == (
        None, None, None, None, [])
    verdict = rl.evaluate([device], {'min_rate_gbps': 400})
    assert 'sysfs has no state for the port' in verdict['devices'][0]['ports'][0]['reasons'][0]


def test_device_net_with_dev_port(tmp_path):
    device_dir = tmp_path / 'mlx4_0'
    for name, dev_port in (('enp1s0', '0'), ('enp1s0d1', '1')):
        (device_dir / 'device' / 'net' / name).mkdir(parents=True)
        (device_dir / 'device' / 'net' / name / 'dev_port').write_text(dev_port + '\n')
    for port in ('1', '2'):
        (device_dir / 'ports' / port).mkdir(parents=True)
    ports = rl.read_devices(str(tmp_path))['devices'][0]['ports']
    assert [port['netdev'] for port in ports] == ['enp1s0', 'enp1s0d1']


# ---------------------------------------------------------------------------
# rules

def test_ib_ndr_healthy():
    verdict = rl.evaluate(read('ib-ndr')['devices'], {
        'port_count': 2, 'min_rate_gbps': 400, 'link_layer': 'InfiniBand', 'fw_version': '28.39.1002',
        'max_counters': {'symbol_error': 0, 'link_downed': 0, 'roce_adp_retrans': 0}})
    assert verdict['healthy'] is True, verdict
    assert verdict['node_reasons'] == []
    assert verdict['port_count'] == 2
    assert verdict['roce_gid'] is None
    port = verdict['devices'][0]['ports'][0]
    assert (port['healthy'], port['reasons'], port['warnings']) == (True, [], [])  # no warning for a RoCE counter


def test_degraded_reasons():
    verdict = rl.evaluate(read('degraded')['devices'], {
        'port_count': 4, 'min_rate_gbps': 400, 'fw_version': '28.39.1002', 'active_mtu': 4096,
        'max_counters': {'symbol_error': 0, 'link_downed': 0, 'port_rcv_errors': 10}})
    assert verdict['healthy'] is False
    assert verdict['node_reasons'] == []
    ports = ports_by_device(verdict)
    down = ports['mlx5_0']
    # a down port: its state is the one reason (no rate/MTU noise)
    assert down['reasons'] == [
        'mlx5_0 port 1 (ibp24s0): state "1: DOWN", physical state "3: Disabled", expected ACTIVE/LinkUp: the port '
        'is disabled: enable it (ibportstate <lid> 1 enable) and check that the switch port is not disabled']
    slow = ports['mlx5_1']
    assert len(slow['reasons']) == 3
    assert slow['reasons'][0].startswith('mlx5_1 port 1 (ibp41s0): link runs at 200 Gb/sec (4X HDR), expected at '
                                         'least 400 Gb/s')
    assert slow['reasons'][1].startswith('mlx5_1 port 1 (ibp41s0): counter link_downed is 3 (at most 0 allowed')
    assert slow['reasons'][2].startswith('mlx5_1 port 1 (ibp41s0): counter port_rcv_errors is 41 (at most 10')
    assert 'reseat or replace the cable' in slow['reasons'][2]
    assert slow['warnings'] == [
        'mlx5_1 port 1 (ibp41s0): active MTU unknown (ibv_devinfo did not run or did not list the port): not checked',
        'mlx5_1 port 1 (ibp41s0): counter symbol_error not found under counters/ or hw_counters/: not checked']
    assert 'no subnet manager has activated the port' in ports['mlx5_2']['reasons'][0]
    assert 'no link partner' in ports['mlx5_3']['reasons'][0]
    devices = dict((device['name'], device) for device in verdict['devices'])
    assert devices['mlx5_3']['reasons'] == [
        'mlx5_3: firmware 28.38.1002, expected 28.39.1002: update the firmware (mlxfwmanager or mstflint) and reset '
        'the device or reboot']
    assert [name for name in sorted(devices) if devices[name]['healthy']] == []


def test_require_active_off():
    verdict = rl.evaluate(read('degraded', patterns=['mlx5_0'])['devices'], {'require_active': False})
    assert verdict['healthy'] is True


def test_port_count_and_unmatched():
    found = read('ib-ndr', patterns=['mlx5_*', 'mlx5_bond_0'])
    verdict = rl.evaluate(found['devices'], {'port_count': 8}, unmatched=found['unmatched'])
    assert verdict['healthy'] is False
    assert verdict['node_reasons'][0].startswith("no RDMA device matches 'mlx5_bond_0'")
    assert verdict['node_reasons'][1].startswith('2 RDMA ports found, expected 8')


def test_no_device_is_unhealthy():
    verdict = rl.evaluate([], {})
    assert verdict['healthy'] is False
    assert verdict['node_reasons'][0].startswith('no RDMA device found')
    assert verdict['devices'] == [] and verdict['port_count'] == 0


def test_link_layer_mismatch():
    verdict = rl.evaluate(read('roce')['devices'], {'link_layer': 'InfiniBand'})
    reason = verdict['devices'][0]['ports'][0]['reasons'][0]
    assert reason.startswith('mlx5_0 port 1 (ens1f0np0): link layer Ethernet, expected InfiniBand: set the port '
                             'protocol with mlxconfig (LINK_TYPE_P1')


def test_roce_mtu_rule():
    verdict = rl.evaluate(read('roce')['devices'], {'active_mtu': 4096})
    ports = ports_by_device(verdict)
    assert ports['mlx5_0']['healthy'] is True
    assert ports['mlx5_1']['reasons'] == [
        'mlx5_1 port 1 (ens2f0np0): active MTU 1024 (netdev MTU 1500), expected 4096: raise the MTU of ens2f0np0 to '
        '9000 (a RoCE active MTU of 4096 needs a netdev MTU of at least 4192) and the switch port MTU above it (9216)']


def test_ib_mtu_rule_from_ibv_devinfo():
    devinfo = rl.parse_ibv_devinfo(fixture('ibv_devinfo-ib-ndr.txt'))
    verdict = rl.evaluate(read('ib-ndr', devinfo=devinfo)['devices'], {'active_mtu': 4096})
    ports = ports_by_device(verdict)
    assert ports['mlx5_0']['healthy'] is True
    assert ports['mlx5_1']['reasons'][0].startswith('mlx5_1 port 1 (ibp41s0): active MTU 2048, expected 4096: raise '
                                                    'the MTU of the partition')


def test_roce_gid_found():
    expect = {'roce_ipv4': '10.10.1.11', 'netdev': 'ens1f0np0', 'min_rate_gbps': 200}
    verdict = rl.evaluate(read('roce')['devices'], expect)
    assert verdict['healthy'] is True, verdict
    assert verdict['roce_gid'] == {'device': 'mlx5_0', 'port': 1, 'index': 3,
                                   'gid': '0000:0000:0000:0000:0000:ffff:0a0a:010b', 'type': 'RoCE v2',
                                   'netdev': 'ens1f0np0', 'ipv4': '10.10.1.11'}


def test_roce_gid_netdev_only_and_default():
    verdict = rl.evaluate(read('roce')['devices'], {'netdev': 'ens2f0np0'})
    assert verdict['roce_gid']['ipv4'] == '192.168.50.11' and verdict['roce_gid']['index'] == 3
    assert rl.evaluate(read('roce')['devices'], {})['roce_gid']['netdev'] == 'ens1f0np0'


@pytest.mark.parametrize('ipv4, netdev, start, detail', [
    ('10.10.1.99', 'ens1f0np0', 'no RoCE v2 GID for 10.10.1.99 on ens1f0np0',
     'ens1f0np0 has RoCE v2 GIDs for 10.10.1.11 only: assign 10.10.1.99 to ens1f0np0'),
    ('10.10.1.11', 'ens2f0np0', 'no RoCE v2 GID for 10.10.1.11 on ens2f0np0',
     'the address is bound to another netdev (mlx5_0 port 1 index 3 on ens1f0np0): move the address to ens2f0np0'),
    ('10.10.1.99', None, 'no RoCE v2 GID for 10.10.1.99',
     'check that the fabric netdev is up and has the address'),
    (None, 'ens9f0np0', 'no RoCE v2 IPv4-mapped GID on ens9f0np0',
     'check that ens9f0np0 is up and has the address (ip -br addr show ens9f0np0)'),
])
def test_roce_gid_missing(ipv4, netdev, start, detail):
    verdict = rl.evaluate(read('roce')['devices'], {'roce_ipv4': ipv4, 'netdev': netdev})
    assert verdict['healthy'] is False
    assert verdict['roce_gid'] is None
    reason = verdict['node_reasons'][0]
    assert reason.startswith(start + ': ')
    assert detail in reason


def test_roce_gid_v1_only():
    devices = read('roce')['devices']
    for gid in devices[0]['ports'][0]['gids']:
        gid['type'] = 'IB/RoCE v1'
    verdict = rl.evaluate(devices, {'roce_ipv4': '10.10.1.11'})
    assert 'the address only has RoCE v1 GIDs (mlx5_0 port 1 index 2 (IB/RoCE v1)' in verdict['node_reasons'][0]


def test_roce_counter_thresholds():
    verdict = rl.evaluate(read('roce')['devices'], {'max_counters': {'roce_adp_retrans': 10, 'packet_seq_err': 5,
                                                                     'out_of_buffer': 0}})
    ports = ports_by_device(verdict)
    assert ports['mlx5_0']['reasons'] == [
        'mlx5_0 port 1 (ens1f0np0): counter roce_adp_retrans is 17 (at most 10 allowed; counted since the driver '
        'loaded): ' + rl.COUNTER_ACTIONS['roce_adp_retrans']]
    assert 'PFC is on for the RoCE priority' in ports['mlx5_0']['reasons'][0]
    assert ports['mlx5_1']['healthy'] is True


def test_every_known_counter_has_an_action():
    assert set(rl.PORT_COUNTERS + rl.HW_COUNTERS) <= set(rl.COUNTER_ACTIONS)
