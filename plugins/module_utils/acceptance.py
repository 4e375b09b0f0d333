# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster acceptance report: one verdict per node and per check (playbooks/acceptance.yml).

Plain data in (what the validations found, per node), plain data out. Used by the
``acceptance_report``, ``acceptance_markdown`` and ``acceptance_lines`` filters.

Input, per node (``nodes``: {node: inputs}):

    {"active": bool,            # false: unreachable, or failed before the report play
     "gpu_health": <nvidia_gpu_health result> | None,
     "fabric": <fabric_validate_host fact of playbooks/fabric_validate.yml> | None,
     "firmware": {"report": <firmware_compare node report> | None, "error": str | None,
                  "sources": {"redfish": bool, "nic": bool, "gpu": bool}, "notes": [str]} | None,
     "nfs": {"mounts": [mount point, ...], "result": <nfs_mount_info result> | None, "error": str | None} | None,
     "lustre": {"mounts": [...], "result": <lustre_client_info result> | None, "error": str | None} | None}

``run``: {"groups": {"gpu_nodes": [...], "switches": [...], "cluster": [...]} (the scope of the
checks: GPU health, RDMA and fabric on gpu_nodes, fabric on switches, storage on cluster nodes),
"fabric": bool (readings exist: the fabric check ran), "fabric_violations": [...]
(aifabric.cluster.fabric_violations), "firmware_hosts": [host, ...] | None (None: the firmware
check did not run), "generated": str}.

Output (schema_version 1):

    {"schema_version": 1, "generated": str, "verdict": "pass" | "fail",
     "checks": [CHECKS...],
     "nodes": {node: {"verdict": "pass" | "fail" | "n-a",
                      "checks": {check: {"verdict": "pass" | "fail" | "n-a", "reasons": [str]}}}},
     "failed_nodes": [node, ...],
     "summary": {check: {"pass": int, "fail": int, "n-a": int}}}

A check is "n-a" where the node has no such thing (no GPUs, no cluster_filesystems of that
type, not in firmware_hosts) and where it did not run (``--tags``); the reason says which.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.six.moves.collections_abc import Mapping

SCHEMA_VERSION = 1
CHECKS = ('gpu_health', 'rdma', 'fabric', 'firmware', 'storage_nfs', 'storage_lustre')
VERDICTS = ('pass', 'fail', 'n-a')
PASS, FAIL, NA = VERDICTS
NOT_RUN = 'not run in this run (a --tags selection skipped the check)'
INACTIVE = 'not checked: the node was unreachable or failed before its checks (see the run)'
# where each firmware component is read from (the firmware role's sources)
FIRMWARE_SOURCES = {'nic': ('nic',), 'gpu_vbios': ('redfish', 'gpu')}
FIRMWARE_DEFAULT_SOURCES = ('redfish',)
FIRMWARE_SOURCE_NAMES = {'redfish': 'the BMC (firmware_collect_redfish)', 'nic': 'mlxfwmanager (firmware_collect_nic)',
                         'gpu': 'nvidia-smi (firmware_collect_gpu)'}


class AcceptanceInputError(ValueError):
    """The input is not what playbooks/acceptance.yml gives."""


def _member(name, run, group):
    return name in ((run.get('groups') or {}).get(group) or [])


def _scope(name, run):
    return {'gpu_node': _member(name, run, 'gpu_nodes'), 'switch': _member(name, run, 'switches'),
            'storage_scope': _member(name, run, 'cluster')}


def _verdict(verdict, reasons=None):
    return {'verdict': verdict, 'reasons': [str(r) for r in (reasons or [])]}


def _is_failed_result(result):
    return isinstance(result, Mapping) and bool(result.get('failed'))


def _gpu_health(node):
    if not node.get('gpu_node'):
        return _verdict(NA, ['no GPUs: not in gpu_nodes'])
    result = node.get('gpu_health')
    if result is None or result.get('skipped'):
        return _verdict(NA, [NOT_RUN])
    if _is_failed_result(result) or 'healthy' not in result:
        return _verdict(FAIL, ['nvidia_gpu_health failed: %s' % result.get('msg', 'no result')])
    reasons = list(result.get('node_reasons') or [])
    for gpu in result.get('gpus') or []:
        if not gpu.get('healthy', True):
            reasons.extend('GPU %s: %s' % (gpu.get('index'), reason) for reason in gpu.get('reasons') or [])
    if result['healthy']:
        return _verdict(PASS, ['%d GPU(s) healthy' % len(result.get('gpus') or [])])
    return _verdict(FAIL, reasons or ['unhealthy (nvidia_gpu_health gave no reason)'])


def _rdma(node):
    if not node.get('gpu_node'):
        return _verdict(NA, ['no fabric port: not in gpu_nodes'])
    fabric = node.get('fabric')
    if fabric is None:
        return _verdict(NA, [NOT_RUN])
    if fabric.get('error'):
        return _verdict(FAIL, [fabric['error']])
    rdma = fabric.get('rdma')
    if not isinstance(rdma, Mapping):
        return _verdict(FAIL, ['the RDMA port of %s was not read (rdma_link_info gave no result)' % fabric.get('netdev')])
    if _is_failed_result(rdma) and 'healthy' not in rdma:
        return _verdict(FAIL, ['rdma_link_info failed: %s' % rdma.get('msg', 'no result')])
    reasons = list(rdma.get('node_reasons') or [])
    for device in rdma.get('devices') or []:
        reasons.extend(device.get('reasons') or [])
        for port in device.get('ports') or []:
            reasons.extend(port.get('reasons') or [])
    if rdma.get('healthy'):
        gid = rdma.get('roce_gid')
        return _verdict(PASS, ['%s: RDMA port healthy%s' % (fabric.get('netdev'), ', RoCE v2 GID %s' % gid if gid else '')])
    return _verdict(FAIL, reasons or ['RDMA port unhealthy (rdma_link_info gave no reason)'])


def _fabric(name, node, run):
    if not (node.get('gpu_node') or node.get('switch')):
        return _verdict(NA, ['not on the RoCE fabric: neither in gpu_nodes nor in switches'])
    if not run.get('fabric') or (node.get('gpu_node') and node.get('fabric') is None):
        return _verdict(NA, [NOT_RUN])
    mine = [v for v in run.get('fabric_violations') or [] if v.get('host', v.get('switch')) == name]
    if mine:
        return _verdict(FAIL, [v.get('message') or '%s: %s' % (v.get('rule'), v.get('setting')) for v in mine])
    return _verdict(PASS, ['consistent with cluster_fabric_qos and the other switches'
                           if node.get('switch') else 'NIC consistent with cluster_fabric_qos'])


def _firmware_missing_sources(component):
    return FIRMWARE_SOURCES.get(component, FIRMWARE_DEFAULT_SOURCES)


def _firmware(name, node, run):
    hosts = run.get('firmware_hosts')
    if hosts is None:
        return _verdict(NA, [NOT_RUN])
    if name not in hosts:
        return _verdict(NA, ['not in firmware_hosts (default gpu_nodes)'])
    firmware = node.get('firmware')
    if firmware is None:
        return _verdict(NA, [NOT_RUN])
    notes = list(firmware.get('notes') or [])
    if firmware.get('error'):
        return _verdict(FAIL, [firmware['error']] + notes)
    report = firmware.get('report')
    if not isinstance(report, Mapping):
        return _verdict(FAIL, ['no firmware report'] + notes)
    sources = firmware.get('sources') or {}
    reasons, unchecked, checked = [], [], 0
    for row in report.get('components') or []:
        status = row.get('status')
        if status == 'missing' and not any(sources.get(s) for s in _firmware_missing_sources(row.get('component'))):
            unchecked.append('%s not checked: read from %s, not collected in this run' % (
                row.get('component'), ' or '.join(FIRMWARE_SOURCE_NAMES[s] for s in _firmware_missing_sources(row.get('component')))))
            continue
        if status in ('drift', 'missing', 'unparsable'):
            reasons.append(row.get('message'))
        elif status in ('compliant', 'ahead'):
            checked += 1
    if reasons:
        return _verdict(FAIL, reasons + unchecked + notes)
    if not checked:
        return _verdict(NA, ['no firmware component could be checked'] + unchecked + notes)
    return _verdict(PASS, ['%d component(s) match the baseline of %s' % (checked, report.get('profile'))] + unchecked + notes)


def _storage(node, key, module):
    if not node.get('storage_scope'):
        return _verdict(NA, ['not a cluster node: no cluster_filesystems'])
    data = node.get(key)
    if data is None:
        return _verdict(NA, [NOT_RUN])
    mounts = data.get('mounts') or []
    if not mounts:
        return _verdict(NA, ['no %s entry of cluster_filesystems names this node' % ('NFS' if key == 'nfs' else 'Lustre')])
    if data.get('error'):
        return _verdict(FAIL, [data['error']])
    result = data.get('result')
    if not isinstance(result, Mapping) or 'healthy' not in result:
        msg = result.get('msg') if isinstance(result, Mapping) else None
        return _verdict(FAIL, ['%s failed: %s' % (module, msg or 'no result')])
    if result['healthy']:
        return _verdict(PASS, ['%s healthy' % ', '.join(mounts)])
    return _verdict(FAIL, list(result.get('reasons') or ['unhealthy (%s gave no reason)' % module]))


def _in_scope(check, name, node, run):
    if check in ('gpu_health', 'rdma'):
        return bool(node.get('gpu_node'))
    if check == 'fabric':
        return bool(node.get('gpu_node') or node.get('switch'))
    if check == 'firmware':
        return run.get('firmware_hosts') is not None and name in run['firmware_hosts']
    return bool(node.get('storage_scope'))


def node_checks(name, node, run):
    """{check: {verdict, reasons}} of one node."""
    if not isinstance(node, Mapping):
        raise AcceptanceInputError('the inputs of %s must be a dict' % name)
    node = dict(node, **_scope(name, run))
    if not node.get('active', True):
        return dict((check, _verdict(FAIL, [INACTIVE]) if _in_scope(check, name, node, run)
                     else _verdict(NA, ['not applicable to this node'])) for check in CHECKS)
    return {
        'gpu_health': _gpu_health(node),
        'rdma': _rdma(node),
        'fabric': _fabric(name, node, run),
        'firmware': _firmware(name, node, run),
        'storage_nfs': _storage(node, 'nfs', 'nfs_mount_info'),
        'storage_lustre': _storage(node, 'lustre', 'lustre_client_info'),
    }


def overall(checks):
    verdicts = [c['verdict'] for c in checks.values()]
    if FAIL in verdicts:
        return FAIL
    return PASS if PASS in verdicts else NA


def build_report(nodes, run=None):
    """The report (see the module docstring) of ``nodes`` ({node: inputs})."""
    if not isinstance(nodes, Mapping):
        raise AcceptanceInputError('nodes must be a dict of node name to its inputs')
    run = dict(run or {})
    if not isinstance(run.get('fabric_violations') or [], list):
        raise AcceptanceInputError('fabric_violations must be a list')
    out_nodes = {}
    summary = dict((check, dict((v, 0) for v in VERDICTS)) for check in CHECKS)
    for name in sorted(nodes):
        checks = node_checks(name, nodes[name], run)
        for check, result in checks.items():
            summary[check][result['verdict']] += 1
        out_nodes[name] = {'verdict': overall(checks), 'checks': checks}
    failed = [name for name in sorted(out_nodes) if out_nodes[name]['verdict'] == FAIL]
    return {
        'schema_version': SCHEMA_VERSION,
        'generated': run.get('generated') or '',
        'verdict': FAIL if failed else PASS,
        'checks': list(CHECKS),
        'nodes': out_nodes,
        'failed_nodes': failed,
        'summary': summary,
    }


def stats(report):
    """The compact form handed on with set_stats: the verdicts, without the reasons."""
    return {
        'schema_version': report['schema_version'],
        'generated': report['generated'],
        'verdict': report['verdict'],
        'failed_nodes': list(report['failed_nodes']),
        'nodes': dict((name, dict((check, data['verdict']) for check, data in node['checks'].items()))
                      for name, node in report['nodes'].items()),
        'summary': report['summary'],
    }


def lines(report):
    """One line per node and check: '<node> <check> <VERDICT> <first reason>'."""
    out = []
    width = max([len(n) for n in report['nodes']] + [4])
    for name in sorted(report['nodes']):
        for check in report['checks']:
            result = report['nodes'][name]['checks'][check]
            reason = result['reasons'][0] if result['reasons'] else ''
            more = len(result['reasons']) - 1
            if more > 0 and result['verdict'] == FAIL:
                reason += ' (+%d more)' % more
            out.append('%-*s  %-14s  %-4s  %s' % (width, name, check, result['verdict'].upper(), reason))
    out.append('acceptance: %s (%d node(s), %d failed%s)' % (
        report['verdict'].upper(), len(report['nodes']), len(report['failed_nodes']),
        ': ' + ', '.join(report['failed_nodes']) if report['failed_nodes'] else ''))
    return out


def _cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def render_markdown(report):
    """The report as Markdown: a table of verdicts, then the reasons of every failure."""
    checks = report['checks']
    out = ['# Cluster acceptance report', '',
           'Generated %s: **%s**, %d node(s), %d failed.' % (
               report['generated'] or '(unknown time)', report['verdict'].upper(), len(report['nodes']),
               len(report['failed_nodes'])), '',
           '| node | verdict | ' + ' | '.join(checks) + ' |',
           '| --- | --- | ' + ' | '.join('---' for dummy in checks) + ' |']
    for name in sorted(report['nodes']):
        node = report['nodes'][name]
        out.append('| %s | %s | %s |' % (_cell(name), node['verdict'],
                                         ' | '.join(node['checks'][c]['verdict'] for c in checks)))
    out.append('')
    failures = [(name, check, report['nodes'][name]['checks'][check]) for name in sorted(report['nodes'])
                for check in checks if report['nodes'][name]['checks'][check]['verdict'] == FAIL]
    if failures:
        out.extend(['## Failures', ''])
        for name, check, result in failures:
            out.append('- **%s** %s:' % (_cell(name), check))
            out.extend('  - %s' % _cell(reason) for reason in result['reasons'])
        out.append('')
    out.extend(['## Every check', ''])
    for name in sorted(report['nodes']):
        out.append('### %s (%s)' % (name, report['nodes'][name]['verdict']))
        out.append('')
        for check in checks:
            result = report['nodes'][name]['checks'][check]
            out.append('- %s: %s%s' % (check, result['verdict'],
                                       (' - ' + '; '.join(_cell(r) for r in result['reasons'])) if result['reasons'] else ''))
        out.append('')
    return '\n'.join(out)
