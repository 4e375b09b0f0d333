# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import lustre_client as lc

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'lustre')

MGS = ['10.0.0.1@o2ib', '10.0.0.2@o2ib']
MOUNTS = ['/mnt/lustre', '/mnt/scratch']


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def net(name):
    if name.endswith('.stderr'):
        return lc.parse_net_show('', fixture(name))
    return lc.parse_net_show(fixture(name))


def ping(name, nid):
    if name.endswith('.stderr'):
        return lc.parse_ping('', fixture(name), nid=nid)
    return lc.parse_ping(fixture(name), nid=nid)


def healthy_pieces():
    return dict(
        net=net('net-show-v3-2.15-o2ib-mr.yaml'),
        pings=[ping('ping-ok-mr-o2ib.yaml', MGS[0]), ping('ping-ok-2.16-netlink.yaml', MGS[1])],
        states=lc.parse_import_states(fixture('import-states-healthy.txt')),
        health=lc.parse_health_check(fixture('health_check-healthy.txt')),
        df=lc.parse_lfs_df(fixture('lfs-df-1k.txt')),
        servers=lc.parse_check_servers(fixture('lfs-check-servers-ok.txt')),
        mgs_nids=MGS,
        expected_mounts=MOUNTS,
    )


def only(reasons, text):
    """The one reason containing ``text``."""
    found = [reason for reason in reasons if text in reason]
    assert len(found) == 1, (text, reasons)
    return found[0]


# ---------------------------------------------------------------------------
# the lnetctl YAML subset

YAML_FIXTURES = [name for name in sorted(os.listdir(FIXTURES))
                 if (name.startswith('net-show') or name.startswith('ping')) and name != 'ping-fail-2.12.stderr']


def _str_keys(node):
    if isinstance(node, dict):
        return dict((str(key), _str_keys(value)) for key, value in node.items())
    if isinstance(node, list):
        return [_str_keys(item) for item in node]
    return node


@pytest.mark.parametrize('name', YAML_FIXTURES)
def test_yaml_subset_agrees_with_pyyaml(name):
    yaml = pytest.importorskip('yaml')
    expected = yaml.safe_load(fixture(name)) or {}
    assert lc.parse_lnetctl_yaml(fixture(name)) == _str_keys(expected)


def test_unquoted_descr_with_colons_is_not_yaml_but_parses():
    text = fixture('ping-fail-2.12.stderr')
    yaml = pytest.importorskip('yaml')
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    assert lc.parse_lnetctl_yaml(text) == {'manage': [{'ping': {
        'errno': -1, 'descr': 'failed to ping 10.0.0.2@o2ib: Input/output error'}}]}


@pytest.mark.parametrize('text, expected', [
    ('', {}),
    ('---\nnet:\n...\n', {'net': None}),
    ('a: "x: y"\nb: \'it\'\'s\'\nc: [0,1]\nd: ~\ne: -7\nf: true\n',
     {'a': 'x: y', 'b': "it's", 'c': '[0,1]', 'd': None, 'e': -7, 'f': True}),
    ('ping:\n- primary nid: 1@gni\n  peer ni:\n  - nid: 1@gni\n  - nid: 2@gni\n  Multi-Rail: False\n',
     {'ping': [{'primary nid': '1@gni', 'peer ni': [{'nid': '1@gni'}, {'nid': '2@gni'}], 'Multi-Rail': False}]}),
    ('show:\n    - net:\n          errno: -100\n          descr: "cannot get networks: Network is down"\n'
     'show:\n    - route:\n          errno: -100\n          descr: x\n',
     {'show': [{'net': {'errno': -100, 'descr': 'cannot get networks: Network is down'}},
               {'route': {'errno': -100, 'descr': 'x'}}]}),
    ('nids:\n    - 2001:db8::5@tcp\n    - 10.0.0.1@o2ib\n', {'nids': ['2001:db8::5@tcp', '10.0.0.1@o2ib']}),
    ('a:\n    b: 1\n  stray line\nc: 2\n', {'a': {'b': 1}, 'c': 2}),
])
def test_yaml_subset(text, expected):
    assert lc.parse_lnetctl_yaml(text) == expected


def test_yaml_that_is_not_a_mapping_raises():
    with pytest.raises(lc.LustreParseError):
        lc.parse_lnetctl_yaml('- a\n- b\n')
    with pytest.raises(lc.LustreParseError):
        lc.parse_lnetctl_yaml('Segmentation fault\n')


@pytest.mark.parametrize('value, expected', [
    ('o2ib0', 'o2ib'), ('o2ib', 'o2ib'), ('tcp0', 'tcp'), ('tcp1', 'tcp1'), ('o2ib10', 'o2ib10'), ('TCP', 'tcp'),
])
def test_normalize_net(value, expected):
    assert lc.normalize_net(value) == expected


def test_nid_net():
    assert lc.nid_net('10.0.0.1@o2ib0') == 'o2ib'
    assert lc.nid_net('2001:db8::1@tcp1') == 'tcp1'
    assert lc.nid_net('nonid') is None


# ---------------------------------------------------------------------------
# lnetctl net show

def test_net_show_2_12_tcp():
    result = net('net-show-v3-2.12-tcp.yaml')
    assert result['lnet_down'] is False and result['errors'] == [] and result['problems'] == []
    lo, tcp = result['nis']
    assert (lo['net'], lo['nid'], lo['interfaces'], lo['health_value']) == ('lo', '0@lo', [], 0)
    assert (tcp['net'], tcp['nid'], tcp['status'], tcp['interfaces']) == ('tcp', '10.73.20.11@tcp', 'up', ['eth1'])
    assert tcp['health_value'] == 1000
    assert 'fatal_error' not in tcp['health_stats']  # 2.12 has none
    assert tcp['health_stats']['no_route'] == 0
    assert tcp['statistics'] == {'send_count': 3825, 'recv_count': 3736, 'drop_count': 30}


def test_net_show_2_15_multi_rail():
    nis = net('net-show-v3-2.15-o2ib-mr.yaml')['nis']
    o2ib = [ni for ni in nis if ni['net'] == 'o2ib']
    assert [(ni['nid'], ni['interfaces'], ni['status'], ni['health_value']) for ni in o2ib] == [
        ('10.0.1.11@o2ib', ['ib0'], 'up', 1000), ('10.0.2.11@o2ib', ['ib1'], 'up', 1000)]
    assert o2ib[0]['health_stats']['fatal_error'] == 0 and o2ib[0]['health_stats']['ping_count'] == 0


@pytest.mark.parametrize('name', ['net-show-v3-2.12-o2ib-ni-down.yaml', 'net-show-v3-2.15-o2ib-ni-down.yaml'])
def test_net_show_ni_down(name):
    ib1 = [ni for ni in net(name)['nis'] if ni['nid'] == '10.0.2.11@o2ib'][0]
    assert (ib1['status'], ib1['interfaces']) == ('down', ['ib1'])


def test_net_show_plain_has_no_health():
    nis = net('net-show-2.15-plain-tcp-efa.yaml')['nis']
    assert [(ni['net'], ni['nid'], ni['interfaces'], ni['health_value'], ni['statistics']) for ni in nis] == [
        ('lo', '0@lo', [], None, None), ('tcp', '10.1.2.61@tcp', ['enp71s0'], None, None),
        ('efa', '1.61.92.0@efa', ['efa_0'], None, None)]


def test_net_show_lnet_down():
    result = net('net-show-lnet-down.stderr')
    assert result['lnet_down'] is True and result['nis'] == []
    assert result['errors'] == [{'section': 'show', 'entity': 'net', 'errno': -100,
                                 'descr': 'cannot get networks: Network is down'}]


def test_net_show_empty_and_garbage():
    assert net('net-show-empty.yaml') == {'nis': [], 'errors': [], 'lnet_down': False, 'problems': []}
    garbage = lc.parse_net_show('', 'lnetctl: error while loading shared libraries: libyaml-0.so.2\n')
    assert garbage['nis'] == [] and garbage['lnet_down'] is False and len(garbage['problems']) == 1


def test_net_show_2_14_empty_lnd_tunables():
    text = ('net:\n    - net type: o2ib\n      local NI(s):\n        - nid: 172.16.0.24@o2ib\n          status: up\n'
            '          interfaces:\n              0: ib0\n          tunables:\n              peer_timeout: 180\n'
            '              ntx: 512\n          lnd tunables:\n          dev cpt: -1\n          CPT: "[0,1,2,3,4]"\n')
    ni = lc.parse_net_show(text)['nis'][0]
    assert (ni['nid'], ni['interfaces'], ni['health_value']) == ('172.16.0.24@o2ib', ['ib0'], None)


# ---------------------------------------------------------------------------
# lnetctl ping

def test_ping_ok():
    result = ping('ping-ok-2.15-tcp.yaml', '10.1.2.67@tcp')
    assert result == {'nid': '10.1.2.67@tcp', 'reachable': True, 'primary_nid': '10.1.2.67@tcp', 'multi_rail': False,
                      'peer_nis': ['10.1.2.67@tcp'], 'errno': None, 'error': None}


@pytest.mark.parametrize('name', ['ping-ok-mr-o2ib.yaml', 'ping-ok-2.16-netlink.yaml'])
def test_ping_ok_multi_rail(name):
    result = ping(name, MGS[0])
    assert result['reachable'] is True and result['multi_rail'] is True
    assert result['peer_nis'] == ['10.0.1.1@o2ib', '10.0.2.1@o2ib']


def test_ping_2_16_without_multi_rail_flag():
    result = lc.parse_ping('ping:\n- primary nid: 10.0.0.1@o2ib\n  peer_ni:\n  - nid: 10.0.0.1@o2ib\n')
    assert result['reachable'] is True and result['multi_rail'] is False


@pytest.mark.parametrize('name, errno, error', [
    ('ping-fail-2.12.stderr', -1, 'failed to ping 10.0.0.2@o2ib: Input/output error'),
    ('ping-fail-2.16-timeout.yaml', -110, 'failed to ping 10.0.0.2@o2ib: Connection timed out'),
    ('ping-fail-2.16-unreachable.yaml', -113, 'failed to ping 10.0.0.2@o2ib: No route to host'),
])
def test_ping_failures(name, errno, error):
    result = ping(name, MGS[1])
    assert (result['reachable'], result['errno'], result['error']) == (False, errno, error)


def test_ping_without_yaml():
    result = lc.parse_ping('', 'Segmentation fault', nid='x@tcp')
    assert result['reachable'] is False and 'lnetctl output is not a YAML mapping' in result['error']
    result = lc.parse_ping('', 'lnetctl: error while loading shared libraries: libyaml-0.so.2', nid='x@tcp')
    assert result['error'] == 'lnetctl: error while loading shared libraries: libyaml-0.so.2'
    assert lc.parse_ping('', '', nid='x@tcp')['error'] == 'no output'


# ---------------------------------------------------------------------------
# lctl get_param

def test_get_param_single_and_multi_line():
    assert lc.parse_get_param('health_check=healthy\nosc.a.state=\ncurrent_state: FULL\nstate_history:\n'
                              ' - [ 1, FULL ]\n') == [
        ('health_check', 'healthy'), ('osc.a.state', 'current_state: FULL\nstate_history:\n - [ 1, FULL ]')]


def test_import_states_healthy():
    targets = lc.parse_import_states(fixture('import-states-healthy.txt'))['targets']
    assert [(t['type'], t['target'], t['kind'], t['index'], t['state'], t['healthy']) for t in targets] == [
        ('osc', 'lustre-OST0000', 'OST', 0, 'FULL', True), ('osc', 'lustre-OST0001', 'OST', 1, 'FULL', True),
        ('osc', 'lustre-OST0002', 'OST', 2, 'FULL', True), ('osc', 'lustre-OST0003', 'OST', 3, 'IDLE', True),
        ('osc', 'scratch-OST0000', 'OST', 0, 'FULL', True), ('osc', 'scratch-OST0001', 'OST', 1, 'FULL', True),
        ('mdc', 'lustre-MDT0000', 'MDT', 0, 'FULL', True), ('mdc', 'scratch-MDT0000', 'MDT', 0, 'FULL', True)]
    assert targets[0]['device'] == 'lustre-OST0000-osc-ffff8a6b3c0e1000' and targets[0]['fsname'] == 'lustre'


def test_import_states_faults():
    targets = dict((t['target'], t) for t in lc.parse_import_states(fixture('import-states-faults.txt'))['targets'])
    disconn = targets['lustre-OST0002']
    assert (disconn['state'], disconn['healthy'], disconn['since'], disconn['since_utc']) == (
        'DISCONN', False, 1717516805, '2024-06-04T16:00:05Z')
    assert disconn['history'][0] == [1717430400, 'CONNECTING'] and len(disconn['history']) == 7
    assert (targets['scratch-OST0001']['state'], targets['scratch-OST0001']['healthy']) == ('CONNECTING', False)
    assert targets['lustre-OST0003']['state'] == 'IDLE' and targets['lustre-OST0003']['healthy'] is True


def test_import_states_server_side_names_and_read_errors():
    text = ('osc.tfs-OST000a-osc-MDT0000.state=\ncurrent_state: EVICTED\nstate_history:\n - [ 1781485337, FULL ]\n'
            ' - [ 1781485439, EVICTED ]\n')
    err = ("error: read_param: '/sys/fs/lustre/mdc/tfs-MDT0001-mdc-ffff9e2a/state': No such device\n"
           "error: get_param: param_path 'osc/*/state': No such file or directory\n")
    result = lc.parse_import_states(text, err)
    evicted, unreadable = result['targets']
    assert (evicted['target'], evicted['index'], evicted['state'], evicted['since']) == ('tfs-OST000a', 10, 'EVICTED', 1781485439)
    assert (unreadable['device'], unreadable['target'], unreadable['state'], unreadable['error']) == (
        'tfs-MDT0001-mdc-ffff9e2a', 'tfs-MDT0001', None, 'No such device')
    assert result['errors'] == ["error: get_param: param_path 'osc/*/state': No such file or directory"]


@pytest.mark.parametrize('name, status, healthy, devices', [
    ('health_check-healthy.txt', 'healthy', True, []),
    ('health_check-n-healthy.txt', 'healthy', True, []),
    ('health_check-not-healthy.txt', 'NOT HEALTHY', False, []),
    ('health_check-lbug.txt', 'LBUG', False, []),
    ('health_check-old-multiline.txt', 'NOT HEALTHY', False, ['lustre-OST0002-osc-ffff8a6b3c0e1000']),
])
def test_health_check(name, status, healthy, devices):
    result = lc.parse_health_check(fixture(name))
    assert (result['status'], result['healthy'], result['unhealthy_devices']) == (status, healthy, devices)


def test_health_check_empty_and_odd():
    assert lc.parse_health_check('') is None
    assert lc.parse_health_check('health_check=\n') is None
    odd = lc.parse_health_check('health_check=maybe\n')
    assert (odd['status'], odd['healthy']) == ('maybe', False)


# ---------------------------------------------------------------------------
# lfs

@pytest.mark.parametrize('text, unit, expected', [
    ('1545600', '1K-blocks', 1545600 * 1024), ('1.5T', 'bytes', int(round(1.5 * 1024 ** 4))),
    ('976.9G', 'bytes', int(round(976.9 * 1024 ** 3))), ('10.0M', 'bytes', 10 * 1024 ** 2), ('4096', 'bytes', 4096),
    ('93.2k', 'bytes', 93200), ('-', 'bytes', None), ('1.5T', '1K-blocks', None),
])
def test_parse_size(text, unit, expected):
    assert lc.parse_size(text, unit) == expected


def test_lfs_df_1k_two_filesystems():
    result = lc.parse_lfs_df(fixture('lfs-df-1k.txt'))
    assert result['errors'] == []
    lustre, scratch = result['filesystems']
    assert (lustre['mount'], lustre['fsname'], lustre['unit'], lustre['human']) == ('/mnt/lustre', 'lustre', '1K-blocks', False)
    assert lustre['summary'] == {'total': 62500003840 * 1024, 'used': 21875001088 * 1024,
                                 'available': 37500002560 * 1024, 'use_percent': 37}
    mdt = lustre['targets'][0]
    assert (mdt['uuid'], mdt['target'], mdt['kind'], mdt['index'], mdt['mount'], mdt['total'], mdt['use_percent']) == (
        'lustre-MDT0000_UUID', 'lustre-MDT0000', 'MDT', 0, '/mnt/lustre', 1545600 * 1024, 3)
    assert [t['target'] for t in lustre['targets']] == ['lustre-MDT0000'] + ['lustre-OST%04d' % i for i in range(4)]
    assert all(t['status'] == 'ok' for fs in result['filesystems'] for t in fs['targets'])
    assert (scratch['mount'], scratch['fsname'], len(scratch['targets'])) == ('/mnt/scratch', 'scratch', 3)


@pytest.mark.parametrize('name, unit', [('lfs-df-1k-inactive.txt', '1K-blocks'), ('lfs-df-h-inactive.txt', 'bytes')])
def test_lfs_df_inactive_and_failing_rows(name, unit):
    lustre, scratch = lc.parse_lfs_df(fixture(name))['filesystems']
    assert lustre['unit'] == unit and lustre['human'] is (unit == 'bytes')
    inactive = lustre['targets'][3]
    assert (inactive['uuid'], inactive['target'], inactive['kind'], inactive['index'], inactive['mount'], inactive['status'],
            inactive['error'], inactive['total']) == (
        'OST0002', 'lustre-OST0002', 'OST', 2, '/mnt/lustre', 'inactive', 'inactive device', None)
    failing = scratch['targets'][2]
    assert (failing['target'], failing['status'], failing['error'], failing['mount']) == (
        'scratch-OST0001', 'error', 'Input/output error', '/mnt/scratch')


def test_lfs_df_human_sizes():
    fs = lc.parse_lfs_df(fixture('lfs-df-h-fsx.txt'))['filesystems'][0]
    assert (fs['mount'], fs['fsname'], len(fs['targets'])) == ('/mnt/lustre', 'fsxl2156', 10)
    assert fs['summary']['total'] == int(round(27.0 * 1024 ** 4)) and fs['summary']['used'] == 60 * 1024 ** 2
    assert [t['index'] for t in fs['targets'] if t['kind'] == 'MDT'] == [0, 1, 2, 3]


def test_lfs_df_state_flags():
    targets = lc.parse_lfs_df(fixture('lfs-df-h-flags-manpage.txt'))['filesystems'][0]['targets']
    assert [(t['target'], t['flags'], t['status']) for t in targets] == [
        ('demofs-MDT0000', '', 'ok'), ('demofs-OST0000', '', 'ok'), ('demofs-OST0001', 'D', 'ok'),
        ('demofs-OST0002', 'DR', 'ok'), ('demofs-OST0003', '', 'inactive'), ('demofs-OST0006', '', 'ok')]
    assert all(t['mount'] == '/demofs' for t in targets)


def test_lfs_df_old_summary_and_stray_lines():
    text = ('UUID                   1K-blocks        Used   Available Use% Mounted on\n'
            'old-MDT0000_UUID          100          10          90  10% /mnt/old[MDT:0]\n'
            'old-OST0000_UUID         1000         500         500  50% /mnt/old[OST:0]\n\n'
            'filesystem summary:       1000         500         500  50% /mnt/old\n\n')
    result = lc.parse_lfs_df(text, "lfs df: cannot open '/mnt/gone': No such file or directory\n")
    fs = result['filesystems'][0]
    assert (fs['mount'], fs['summary']['use_percent'], len(fs['targets'])) == ('/mnt/old', 50, 2)
    assert result['errors'] == ["lfs df: cannot open '/mnt/gone': No such file or directory"]
    assert lc.parse_lfs_df('') == {'filesystems': [], 'errors': []}


def test_check_servers_ok():
    result = lc.parse_check_servers(fixture('lfs-check-servers-ok.txt'))
    assert result['errors'] == [] and len(result['servers']) == 10 and all(s['active'] for s in result['servers'])
    mgc = result['servers'][-2]
    assert (mgc['device'], mgc['kind'], mgc['target'], mgc['fsname']) == ('MGC10.0.0.1@o2ib', 'MGS', 'MGC10.0.0.1@o2ib', None)


def test_check_servers_errors():
    result = lc.parse_check_servers(fixture('lfs-check-servers-errors.txt'), fixture('lfs-check-servers-errors.stderr'))
    bad = [s for s in result['servers'] if not s['active']]
    assert [(s['target'], s['kind'], s['status'], s['error'], s['errno']) for s in bad] == [
        ('lustre-OST0002', 'OST', 'error', 'Resource temporarily unavailable (11)', -11),
        ('scratch-OST0001', 'OST', 'error', 'Transport endpoint is not connected (107)', -107),
        ('MGC10.0.0.2@o2ib', 'MGS', 'error', 'Cannot send after transport endpoint shutdown (108)', -108)]


def test_check_servers_inactive_wrapped_and_general_errors():
    err = ("lfs check: error: check 'fs-OST006a-osc-ffff97dd43959000':\n"
           "           Cannot send after transport endpoint shutdown (108)\n"
           "lfs: error: check 'fs-MDT0000-mdc-ffff97dd43959000': Input/output error (5)\n"
           "lfs check: cannot find mounted Lustre filesystem: No such device\n")
    result = lc.parse_check_servers('fs-OST0001-osc-ffff97dd43959000 inactive.\n', err)
    assert [(s['target'], s['status'], s['error']) for s in result['servers']] == [
        ('fs-OST0001', 'inactive', None),
        ('fs-OST006a', 'error', 'Cannot send after transport endpoint shutdown (108)'),
        ('fs-MDT0000', 'error', 'Input/output error (5)')]
    assert result['errors'] == ['lfs check: cannot find mounted Lustre filesystem: No such device']


# ---------------------------------------------------------------------------
# rules

def test_evaluate_healthy():
    verdict = lc.evaluate(**healthy_pieces())
    assert verdict == {'healthy': True, 'reasons': [], 'lnet_up': True}


def test_evaluate_healthy_2_12_tcp_without_pieces():
    verdict = lc.evaluate(net=net('net-show-v3-2.12-tcp.yaml'))
    assert verdict['healthy'] is True  # lo's health value (0 or 942) is never judged


def test_evaluate_nothing_read():
    assert lc.evaluate() == {'healthy': True, 'reasons': [], 'lnet_up': None}


@pytest.mark.parametrize('name', ['net-show-v3-2.12-o2ib-ni-down.yaml', 'net-show-v3-2.15-o2ib-ni-down.yaml'])
def test_evaluate_ni_down(name):
    pieces = healthy_pieces()
    pieces['net'] = net(name)
    reasons = lc.evaluate(**pieces)['reasons']
    assert len(reasons) == 1
    assert reasons[0].startswith('LNet NI 10.0.2.11@o2ib (ib1, net o2ib): status down: check the interface (ip link show ib1)')


def test_evaluate_health_value():
    pieces = healthy_pieces()
    pieces['net'] = net('net-show-v3-2.15-o2ib-health-degraded.yaml')
    reasons = lc.evaluate(**pieces)['reasons']
    assert reasons == [only(reasons, 'LNet NI 10.0.2.11@o2ib (ib1, net o2ib): health value 850, expected 1000: '
                                     'LNet saw send failures on this NI (dropped 1, timeouts 2)')]


def test_evaluate_lnet_down_hides_the_pings():
    pieces = healthy_pieces()
    pieces['net'] = net('net-show-lnet-down.stderr')
    down = 'manage:\n    - ping:\n          errno: -1\n          descr: failed to ping %s: Network is down\n'
    pieces['pings'] = [lc.parse_ping('', down % nid, nid=nid) for nid in MGS]
    verdict = lc.evaluate(**pieces)
    assert verdict['lnet_up'] is False
    assert verdict['reasons'] == [only(verdict['reasons'], 'LNet is down (lnetctl: errno -100, cannot get networks: '
                                                           'Network is down): start it')]


def test_evaluate_no_network_and_unreadable_net():
    assert only(lc.evaluate(net=net('net-show-empty.yaml'))['reasons'], 'LNet has no network besides lo')
    garbage = lc.parse_net_show('', 'Segmentation fault\n')
    assert only(lc.evaluate(net=garbage)['reasons'], 'lnetctl net show printed output that could not be read')
    failed = lc.parse_net_show('', 'show:\n    - net:\n          errno: -19\n          descr: "cannot get networks: No such device"\n')
    verdict = lc.evaluate(net=failed)
    assert verdict['lnet_up'] is None
    assert verdict['reasons'] == [only(verdict['reasons'], 'lnetctl net show failed (errno -19, cannot get networks: No such device)')]


def test_evaluate_mgs_ping_failures():
    pieces = healthy_pieces()
    pieces['mgs_nids'] = MGS + ['10.9.0.1@tcp', '10.0.0.3@o2ib']
    pieces['pings'] = [ping('ping-ok-mr-o2ib.yaml', MGS[0]), ping('ping-fail-2.12.stderr', MGS[1]),
                       ping('ping-fail-2.16-unreachable.yaml', '10.9.0.1@tcp'),
                       {'nid': '10.0.0.3@o2ib', 'reachable': False, 'timed_out': True, 'error': 'no answer within 20 s'}]
    reasons = lc.evaluate(**pieces)['reasons']
    assert len(reasons) == 3
    assert only(reasons, 'MGS NID 10.0.0.2@o2ib').startswith(
        'MGS NID 10.0.0.2@o2ib does not answer lnetctl ping (errno -1, failed to ping 10.0.0.2@o2ib: Input/output error): '
        'check that the MGS is up')
    assert 'this node has no NI on net tcp (its nets: o2ib)' in only(reasons, 'MGS NID 10.9.0.1@tcp')
    assert only(reasons, 'MGS NID 10.0.0.3@o2ib').startswith(
        'MGS NID 10.0.0.3@o2ib: `lnetctl ping 10.0.0.3@o2ib` was killed (no answer within 20 s)')


def test_evaluate_target_states_merge_check_servers():
    pieces = healthy_pieces()
    pieces['states'] = lc.parse_import_states(fixture('import-states-faults.txt'))
    pieces['servers'] = lc.parse_check_servers(fixture('lfs-check-servers-errors.txt'), fixture('lfs-check-servers-errors.stderr'))
    pieces['df'] = lc.parse_lfs_df(fixture('lfs-df-1k-inactive.txt'))
    reasons = lc.evaluate(**pieces)['reasons']
    assert len(reasons) == 3, reasons
    disconn = only(reasons, 'lustre-OST0002')
    assert disconn.startswith('lustre-OST0002 (osc lustre-OST0002-osc-ffff8a6b3c0e1000): import state DISCONN since '
                              '2024-06-04T16:00:05Z, expected FULL or IDLE: the client lost its connection to the OST')
    assert disconn.endswith('; lfs check servers: Resource temporarily unavailable (11)')
    assert 'import state CONNECTING since 2024-06-04T16:00:10Z' in only(reasons, 'scratch-OST0001')
    assert only(reasons, 'MGC10.0.0.2@o2ib').startswith(
        'MGC10.0.0.2@o2ib: not active in lfs check servers: Cannot send after transport endpoint shutdown (108): the client '
        'lost its MGS connection')


@pytest.mark.parametrize('state, text', [
    ('EVICTED', 'the server evicted this client'),
    ('CLOSED', 'the import is closed'),
    ('NEW', 'the import never connected: check the server NIDs of the target (lctl get_param osc.fs-OST0000-osc-ffff1.import)'),
    ('REPLAY', 'the client lost its connection to the OST and is reconnecting'),
])
def test_evaluate_state_actions(state, text):
    states = lc.parse_import_states('osc.fs-OST0000-osc-ffff1.state=\ncurrent_state: %s\nstate_history:\n' % state)
    reason = only(lc.evaluate(states=states)['reasons'], 'fs-OST0000 (osc fs-OST0000-osc-ffff1): import state %s, ' % state)
    assert text in reason


def test_evaluate_unreadable_state():
    states = lc.parse_import_states('', "error: read_param: '/proc/fs/lustre/osc/fs-OST0001-osc-ffff1/state': No such device\n")
    assert only(lc.evaluate(states=states)['reasons'], 'fs-OST0001 (osc fs-OST0001-osc-ffff1): import state unreadable '
                                                       '(No such device)')


@pytest.mark.parametrize('name, text', [
    ('health_check-not-healthy.txt', 'lctl get_param health_check reports NOT HEALTHY: a Lustre device'),
    ('health_check-old-multiline.txt', 'reports NOT HEALTHY (device lustre-OST0002-osc-ffff8a6b3c0e1000 reported unhealthy)'),
    ('health_check-lbug.txt', 'lctl get_param health_check reports LBUG: the Lustre kernel modules hit an assertion: reboot'),
])
def test_evaluate_health_check(name, text):
    pieces = healthy_pieces()
    pieces['health'] = lc.parse_health_check(fixture(name))
    reasons = lc.evaluate(**pieces)['reasons']
    assert reasons == [only(reasons, text)]


def test_evaluate_expected_mounts():
    pieces = healthy_pieces()
    pieces['expected_mounts'] = ['/mnt/lustre/', '/mnt/scratch', '/mnt/projects']
    reasons = lc.evaluate(**pieces)['reasons']
    assert reasons == [only(reasons, 'expected Lustre mount /mnt/projects is not in lfs df: mount it (mount /mnt/projects;')]
    # lfs df not read (timed out): the mounts are not judged, the timeout is the reason
    pieces['df'] = None
    pieces['command_failures'] = [{'command': 'lfs df', 'timed_out': True, 'timeout': 20}]
    reasons = lc.evaluate(**pieces)['reasons']
    assert reasons == [only(reasons, '`lfs df` did not finish within 20 s and was killed')]


def test_evaluate_df_rows_without_a_state_reason():
    pieces = healthy_pieces()
    pieces['df'] = lc.parse_lfs_df(fixture('lfs-df-h-inactive.txt'))
    reasons = lc.evaluate(**pieces)['reasons']
    assert len(reasons) == 2
    assert only(reasons, 'lustre-OST0002').startswith('lustre-OST0002 (/mnt/lustre[OST:2]): inactive device in lfs df')
    assert only(reasons, 'scratch-OST0001').startswith('scratch-OST0001 (/mnt/scratch[OST:1]): lfs df: Input/output error')


def test_evaluate_check_servers_alone_and_general_errors():
    servers = lc.parse_check_servers('fs-OST0001-osc-ffff1 inactive.\n',
                                     'lfs check: cannot find mounted Lustre filesystem: No such device\n'
                                     'lfs check: cannot check target \'servers\': Input/output error\n')
    reasons = lc.evaluate(servers=servers)['reasons']
    assert len(reasons) == 2
    assert only(reasons, 'fs-OST0001 (fs-OST0001-osc-ffff1): not active in lfs check servers: inactive: check that the '
                         'server of fs-OST0001 is up')
    assert only(reasons, "lfs check servers: lfs check: cannot check target 'servers': Input/output error")


def test_command_reason():
    assert lc.command_reason({'command': 'lctl get_param health_check', 'rc': 2,
                              'msg': "error: get_param: param_path 'health_check': No such file or directory"}) == (
        "`lctl get_param health_check` failed (rc 2): error: get_param: param_path 'health_check': No such file or directory")
    assert lc.command_reason({'command': 'lfs df', 'rc': 1}) == '`lfs df` failed (rc 1): no output'
