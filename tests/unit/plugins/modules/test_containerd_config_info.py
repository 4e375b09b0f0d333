# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_config_info's main() against recorded containerd output (1.6, 1.7, 2.1)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.modules import containerd_config_info
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'containerd')
EXPECT = {'systemd_cgroup': True, 'runtimes': ['runc', 'nvidia'], 'default_runtime': 'nvidia',
          'binary_names': {'nvidia': '/usr/bin/nvidia-container-runtime'}}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


class FakeContainerd(object):
    def __init__(self, version, dump, dump_rc=0, dump_err=''):
        self.version, self.dump, self.dump_rc, self.dump_err, self.calls = version, dump, dump_rc, dump_err, []

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd)
        if cmd[1:] == ['--version']:
            return 0, self.version, ''
        if cmd[1] == '--config' and cmd[3:] == ['config', 'dump']:
            return self.dump_rc, self.dump, self.dump_err
        raise AssertionError(cmd)


@pytest.mark.parametrize('version,dump,image', [
    ('1.6', 'dump-1.6-nvidia.toml', 'registry.k8s.io/pause:3.10'),
    ('1.7', 'dump-1.7-nvidia.toml', 'registry.k8s.io/pause:3.10'),
    ('2.1', 'dump-2.1-nvidia.toml', 'registry.k8s.io/pause:3.10.1'),
])
def test_a_good_config_in_every_version(monkeypatch, capsys, version, dump, image):
    fake = FakeContainerd(fixture('version-%s.txt' % version), fixture(dump))
    args = dict(EXPECT, sandbox_image=image, _ansible_check_mode=True)
    result = run_main(monkeypatch, capsys, containerd_config_info, args, fake, bins=('containerd',))
    assert result['_rc'] == 0 and result['changed'] is False
    assert result['problems'] == []
    assert result['containerd_version'].startswith(version)
    assert result['runtimes']['nvidia']['systemd_cgroup'] is True
    assert fake.calls[1] == ['/usr/bin/containerd', '--config', '/etc/containerd/config.toml', 'config', 'dump']


def test_the_default_config_lists_its_problems(monkeypatch, capsys):
    fake = FakeContainerd(fixture('version-1.6.txt'), fixture('default-1.6.toml'))
    result = run_main(monkeypatch, capsys, containerd_config_info, EXPECT, fake, bins=('containerd',))
    assert result['_rc'] == 0
    assert result['problems'] == [
        "runtime 'nvidia' is missing; configured: runc",
        "runtime 'runc' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)",
        "default_runtime_name is 'runc', expected 'nvidia'",
    ]


def test_a_config_containerd_cannot_load_fails_with_its_error(monkeypatch, capsys):
    err = ('containerd: failed to load TOML: /etc/containerd/config.toml: (2, 2): '
           'unexpected token unclosed table key, was expecting a table key\n')
    fake = FakeContainerd(fixture('version-1.6.txt'), '', dump_rc=1, dump_err=err)
    result = run_main(monkeypatch, capsys, containerd_config_info, EXPECT, fake, bins=('containerd',))
    assert result['_rc'] == 1 and result['failed'] is True
    assert 'containerd cannot load /etc/containerd/config.toml (rc 1)' in result['msg']
    assert 'unclosed table key' in result['msg']


def test_no_containerd(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, containerd_config_info, {}, FakeContainerd('', ''), bins=())
    assert result['failed'] is True and 'containerd not found' in result['msg']
