#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nfs_mount_info
short_description: Read the NFS client mounts of a host from mountstats and judge their negotiated options
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Reads every NFS mount from O(mountstats_path) (C(/proc/self/mountstats)): device, server, export, mount point,
    the options the client and server negotiated (version, transport, port, C(nconnect), C(rsize), C(wsize), hard or
    soft, C(timeo), C(retrans), C(sec)), the transport statistics and the per-operation RPC statistics."
  - "The transport statistics are summed over all C(xprt:) lines of a mount: with C(nconnect=16) the kernel writes
    16, one per connection (older C(mountstats) tools of nfs-utils only report the last one)."
  - 'Compares the mounts with O(expected_mounts): every expected mount must be there, and each negotiated option
    that differs is one reason that names the mount point, what was negotiated, what was expected and what to do,
    for example "/mnt/datasets: nconnect=1 negotiated (1 transport connection in mountstats), expected 16: mount
    with nconnect=16 ...".'
  - "With O(probe=true), runs C(stat) and C(statfs) of every expected mount point in a child process and kills it
    after O(probe_timeout) seconds: a hard mount whose server does not answer blocks those calls for ever, so the
    mount point is reported as hung instead of blocking the play."
  - Never changes anything on the host; RV(healthy) reports the verdict.
options:
  mountstats_path:
    description:
      - The mountstats file, C(/proc/self/mountstats) or a copy of it.
      - The task fails when it cannot be read.
    type: path
    default: /proc/self/mountstats
  expected_mounts:
    description:
      - NFS mounts that must be present, with the negotiated options they must have; an option that is left out is
        not checked.
      - When a mount point has several NFS entries (mounted over each other), the last one is the one in use and the
        one checked.
    type: list
    elements: dict
    default: []
    suboptions:
      mount_point:
        description: Mount point, for example V(/mnt/datasets).
        type: path
        required: true
      source:
        description:
          - Export that must be mounted there, as V(server:/export) (V([fd00::5]:/export) for IPv6), compared with the
            device of the mount; the server is compared without regard to case, the export without a trailing slash.
        type: str
      vers:
        description:
          - NFS version, for example V(4.2), V(4.1) or V(3). V(4) accepts any NFSv4 minor version.
          - Quote it in YAML (V("4.2")); a number is converted to a string.
        type: str
      proto:
        description:
          - Transport (the C(proto=) option). V(tcp) also accepts V(tcp6) and V(rdma) also accepts V(rdma6), the
            names of the IPv6 transports.
        type: str
        choices: [tcp, tcp6, udp, udp6, rdma, rdma6]
      nconnect:
        description: Number of transport connections (C(nconnect=)); a mount without C(nconnect) has 1.
        type: int
      hard:
        description: V(true) for a hard mount, V(false) for a C(soft) or C(softerr) mount.
        type: bool
      rsize_max:
        description:
          - The read size the mount asks for (C(rsize=)), for example V(1048576); the negotiated C(rsize) must be
            equal to it. It is lower when the server caps it and higher when the mount did not set it.
        type: int
      wsize_max:
        description:
          - The write size the mount asks for (C(wsize=)); the negotiated C(wsize) must be equal to it.
        type: int
      port:
        description:
          - Server port, for example V(20049) for NFS over RDMA. NFSv4 without C(port=) uses V(2049); NFSv3 without
            C(port=) gets its port from rpcbind and never matches.
        type: int
  probe:
    description:
      - Run C(stat) and C(statfs) of every mount point of O(expected_mounts) in child processes (all at once) and
        report those that do not answer within O(probe_timeout) as hung.
      - A probe that fails on a mounted path (for example C(Stale file handle)) is a reason too.
    type: bool
    default: true
  probe_timeout:
    description: Seconds the probes may take together before the mount points still waiting count as hung.
    type: int
    default: 10
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - Reads the mountstats of the mount namespace the module runs in; in a container that is the container's mounts.
  - The statistics count since the mount was made; compare two runs to see a rate.
  - C(vers), C(proto), C(nconnect), C(rsize), C(wsize), C(port) and hard or soft cannot be changed by a remount; the
    reasons say to unmount and mount again. All mounts of one server share its connections, so C(nconnect) is the one
    of the first mount of that server.
  - A child process that is still blocked after it was killed is left to exit on its own; it holds none of the
    module's output.
seealso:
  - module: aifabric.cluster.rdma_link_info
'''

EXAMPLES = r'''
- name: Check the dataset and checkpoint mounts of a GPU node
  aifabric.cluster.nfs_mount_info:
    expected_mounts:
      - mount_point: /mnt/datasets
        source: 192.168.0.105:/datasets
        vers: "4.2"
        proto: tcp
        nconnect: 16
        hard: true
        rsize_max: 1048576
        wsize_max: 1048576
      - mount_point: /mnt/train
        vers: "4.1"
        proto: rdma
        port: 20049
    probe_timeout: 5
  register: nfs

- name: Show what is wrong
  ansible.builtin.debug:
    var: nfs.reasons
  when: not nfs.healthy

- name: Stop when an NFS mount is missing, hung or negotiated other options
  ansible.builtin.assert:
    that: nfs.healthy
    fail_msg: "{{ nfs.reasons | join('; ') }}"

- name: Report the retransmissions of every NFS mount
  ansible.builtin.debug:
    msg: "{{ item.mount_point }}: {{ item.totals.retransmissions }} retransmissions, {{ item.xprt.xprt_count }} connections"
  loop: "{{ nfs.mounts }}"
  loop_control:
    label: "{{ item.mount_point }}"
'''

RETURN = r'''
healthy:
  description: V(true) when every expected mount is present, negotiated the expected options and answered the probe.
  returned: always
  type: bool
  sample: false
reasons:
  description: What is wrong and what to do, one string each, every one starting with the mount point.
  returned: always
  type: list
  elements: str
  sample:
    - "/mnt/datasets: nconnect=1 negotiated (1 transport connection in mountstats), expected 16: mount with nconnect=16 ..."
    - "/mnt/train: hung: stat() and statfs() did not return within 5 s: ..."
missing:
  description: Expected mount points without an NFS mount.
  returned: always
  type: list
  elements: str
  sample: [/mnt/checkpoints]
mount_count:
  description: Number of NFS mounts found.
  returned: always
  type: int
  sample: 2
probes:
  description: One record per probed mount point, in the order of O(expected_mounts); empty with O(probe=false).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The mount point.
      type: str
      sample: /mnt/datasets
    status:
      description: C(ok), C(hung) (no answer within O(probe_timeout)) or C(error) (C(stat) or C(statfs) failed).
      type: str
      sample: ok
    seconds:
      description: Seconds from the start of the probes to the answer (or to the timeout).
      type: float
      sample: 0.031
    timeout:
      description: O(probe_timeout).
      type: int
      sample: 10
    error:
      description: The error of a failed probe, V(null) otherwise.
      type: str
      sample: "[Errno 116] Stale file handle: '/mnt/datasets'"
mounts:
  description: One record per NFS mount, in the order of the mountstats file.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The device, V(server:/export).
      type: str
      sample: 192.168.0.105:/datasets
    server:
      description: Server part of the device (without the brackets of an IPv6 address).
      type: str
      sample: 192.168.0.105
    export:
      description: Export part of the device.
      type: str
      sample: /datasets
    mount_point:
      description: Mount point (the kernel's octal escapes, such as C(\040) for a blank, undone).
      type: str
      sample: /mnt/datasets
    fstype:
      description: C(nfs) or C(nfs4).
      type: str
      sample: nfs4
    statvers:
      description: Version of the NFS statistics format (C(1.0) or C(1.1)).
      type: str
      sample: "1.1"
    age:
      description: Seconds since the mount was made.
      type: int
      sample: 412877
    vers:
      description: Negotiated NFS version.
      type: str
      sample: "4.2"
    proto:
      description: Transport, C(tcp), C(tcp6), C(udp), C(udp6), C(rdma) or C(rdma6).
      type: str
      sample: tcp
    port:
      description:
        - Server port; V(2049) for NFSv4 without C(port=), V(null) for NFSv3 whose port came from rpcbind.
      type: int
      sample: 2049
    nconnect:
      description: Number of transport connections the mount asked for (1 without C(nconnect=)).
      type: int
      sample: 16
    rsize:
      description: Negotiated read size in bytes.
      type: int
      sample: 1048576
    wsize:
      description: Negotiated write size in bytes.
      type: int
      sample: 1048576
    hard:
      description: V(false) for a C(soft) or C(softerr) mount.
      type: bool
      sample: true
    timeo:
      description: RPC timeout in tenths of a second.
      type: int
      sample: 600
    retrans:
      description: Retries before a major timeout.
      type: int
      sample: 2
    sec:
      description: Security flavour.
      type: str
      sample: sys
    clientaddr:
      description: Client address of an NFSv4 mount, V(null) for NFSv3.
      type: str
      sample: 192.168.0.106
    mountaddr:
      description: Address of the mount daemon of an NFSv3 mount, V(null) for NFSv4.
      type: str
      sample: 192.168.178.26
    options:
      description: Every option of the C(opts:) line; options without a value are V(true).
      type: dict
      sample: {rw: true, vers: "4.2", hard: true, proto: tcp, nconnect: "16", local_lock: none}
    bytes:
      description:
        - The C(bytes:) counters, C(normalreadbytes), C(normalwritebytes), C(directreadbytes), C(directwritebytes),
          C(serverreadbytes), C(serverwritebytes), C(readpages), C(writepages).
      type: dict
      sample: {serverreadbytes: 2317966036992, serverwritebytes: 1815318163456}
    rpc_iostats_version:
      description: Version of the RPC statistics format.
      type: str
      sample: "1.1"
    rpc_program_version:
      description: NFS protocol major version of the RPC client (3 or 4).
      type: int
      sample: 4
    xprt:
      description:
        - Transport statistics summed over all C(xprt:) lines; only the fields the kernel writes are there.
        - C(transport) (of the first line), C(transports), C(xprt_count) (number of lines), C(srcports),
          C(max_slots) (largest), and the sums of C(bind_count), C(connect_count), C(connect_time), C(sends),
          C(recvs), C(bad_xids), C(req_u), C(bklog_u), C(sending_u), C(pending_u) and, over RDMA, C(read_chunks),
          C(write_chunks), C(reply_chunks), C(total_rdma_req), C(total_rdma_rep), C(pullup), C(fixup), C(hardway),
          C(failed_marshal), C(bad_reply), C(nomsg_calls), C(mrs_recycled), C(mrs_orphaned), C(mrs_allocated),
          C(local_inv_needed), C(empty_sendctx_q), C(reply_waits_for_send).
        - C(sends), C(recvs), C(bad_xids) and C(connect_count) are always there (V(0) for UDP's C(connect_count),
          V(null) without any C(xprt:) line).
      type: dict
      sample: {transport: tcp, transports: [tcp], xprt_count: 16, sends: 4067087, recvs: 4067087, bad_xids: 0,
               connect_count: 17}
    ops:
      description:
        - Per-operation RPC statistics by operation name, each with C(ops), C(transmissions), C(timeouts) (major
          timeouts), C(bytes_sent), C(bytes_recv), C(queue_ms), C(rtt_ms), C(execute_ms) and C(errors) (V(null) on
          kernels that do not count errors).
      type: dict
      sample: {WRITE: {ops: 1731128, transmissions: 1731131, timeouts: 0, bytes_sent: 1815318163456,
               bytes_recv: 277005520, queue_ms: 1833412, rtt_ms: 14123765, execute_ms: 16093321, errors: 0}}
    totals:
      description:
        - Over all operations, C(ops), C(transmissions), C(retransmissions) (the sum of transmissions minus
          operations), C(timeouts) (major timeouts) and C(errors) (V(null) on kernels that do not count errors).
      type: dict
      sample: {ops: 4067084, transmissions: 4067087, retransmissions: 3, timeouts: 0, errors: 2314}
    warnings:
      description: Lines of the entry that could not be read.
      type: list
      elements: str
      sample: []
    expected:
      description: V(true) when the mount point is one of O(expected_mounts) and this entry is the one in use.
      type: bool
      sample: true
    reasons:
      description: The reasons that concern this mount.
      type: list
      elements: str
      sample: ["/mnt/datasets: soft mount, expected hard: ..."]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.nfs_mountstats import (
    MountstatsError, evaluate, normalize_expected, other_mounts, parse_mountstats, probe_paths, read_mountstats,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mountstats_path=dict(type='path', default='/proc/self/mountstats'),
            expected_mounts=dict(type='list', elements='dict', default=[], options=dict(
                mount_point=dict(type='path', required=True),
                source=dict(type='str'),
                vers=dict(type='str'),
                proto=dict(type='str', choices=['tcp', 'tcp6', 'udp', 'udp6', 'rdma', 'rdma6']),
                nconnect=dict(type='int'),
                hard=dict(type='bool'),
                rsize_max=dict(type='int'),
                wsize_max=dict(type='int'),
                port=dict(type='int'),
            )),
            probe=dict(type='bool', default=True),
            probe_timeout=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['probe_timeout'] < 1:
        module.fail_json(msg='probe_timeout must be 1 or more seconds, got %d' % params['probe_timeout'])
    expected = []
    try:
        expected = normalize_expected(params['expected_mounts'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    text = ''
    try:
        text = read_mountstats(params['mountstats_path'])
    except MountstatsError as exc:
        module.fail_json(msg='%s: NFS mounts cannot be read (is this Linux, and is /proc mounted?)' % exc)

    mounts = parse_mountstats(text)
    probes = {}
    points = []
    for expect in expected:
        if expect['mount_point'] not in points:
            points.append(expect['mount_point'])
    if params['probe'] and points:
        probes = probe_paths(points, params['probe_timeout'])

    verdict = evaluate(mounts, expected, others=other_mounts(text), probes=probes)
    module.exit_json(
        changed=False,
        healthy=verdict['healthy'],
        reasons=verdict['reasons'],
        missing=verdict['missing'],
        mount_count=len(verdict['mounts']),
        probes=[probes[point] for point in points if point in probes],
        mounts=verdict['mounts'],
    )


if __name__ == '__main__':
    main()
