# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs connectx_firmware_info's main() with mlxfwmanager answered from fixtures."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.modules import connectx_firmware_info
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'mlxfwmanager')
TOOL = '/usr/bin/mlxfwmanager'


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


class Commands(object):
    """Answers run_command with one answer; records the calls and their environment."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []
        self.environ = []

    def __call__(self, module, args, **kwargs):
        self.calls.append(list(args))
        self.environ.append(kwargs.get('environ_update'))
        return self.answer


def run(monkeypatch, capsys, args, answer, bins=('mlxfwmanager',), check_mode=False):
    commands = Commands(answer)
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    result = run_main(monkeypatch, capsys, connectx_firmware_info, args, commands, bins)
    result['_calls'] = commands.calls
    result['_environ'] = commands.environ
    return result


@pytest.mark.parametrize('check_mode', [False, True])
def test_two_devices(monkeypatch, capsys, check_mode):
    result = run(monkeypatch, capsys, {}, (0, fixture('cx7x2-one-update-required.txt'), ''), check_mode=check_mode)
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['device_count'] == 2
    assert [d['status'] for d in result['devices']] == ['Update required', 'Up to date']
    assert result['devices'][0]['versions']['fw'] == {'current': '28.42.1000', 'available': '28.43.1014'}
    assert result['devices'][0]['versions']['uefi']['available'] is None
    assert result['_calls'] == [[TOOL, '--query']]
    assert result['_environ'] == [{'LANG': 'C', 'LC_ALL': 'C'}]


def test_path_and_image_dir(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mlxfwmanager_path': '/opt/mellanox/bin/mlxfwmanager',
                                       'image_dir': '/srv/fw'},
                 (0, fixture('cx7-up-to-date.txt'), ''), bins=())
    assert result['_rc'] == 0
    assert result['_calls'] == [['/opt/mellanox/bin/mlxfwmanager', '--query', '-D', '/srv/fw']]
    assert result['devices'][0]['status'] == 'Up to date'


def test_no_devices(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {}, (0, fixture('no-devices.txt'), ''))
    assert result['_rc'] == 0
    assert (result['device_count'], result['devices']) == (0, [])


def test_command_failure(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {}, (1, fixture('no-devices.txt'), fixture('no-devices.stderr')))
    assert result['failed'] is True
    assert result['rc'] == 1
    assert result['stderr'] == fixture('no-devices.stderr')
    assert result['msg'] == ('/usr/bin/mlxfwmanager --query failed (rc 1): -E- No devices found or specified, '
                             "mst might be stopped, run 'mst start' to load MST modules")


@pytest.mark.parametrize('name, message', [
    ('truncated.txt', 'mlxfwmanager output is truncated: device #1 has no Status line'),
    ('malformed.txt', "mlxfwmanager output line 11 cannot be parsed: '### garbage ### 0x1f'"),
])
def test_parse_failure(monkeypatch, capsys, name, message):
    result = run(monkeypatch, capsys, {}, (0, fixture(name), ''))
    assert result['failed'] is True
    assert result['msg'] == message
    assert result['stdout'] == fixture(name)


def test_missing_binary(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {}, (0, '', ''), bins=())
    assert result['failed'] is True
    assert 'mlxfwmanager' in result['msg']
    assert result['_calls'] == []
