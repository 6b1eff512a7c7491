# bbtest.py: helpers shared by the Python test suites (imported from the test's folder)
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import unittest

import gi

gi.require_version('GLib', '2.0')
from gi.repository import GLib  # noqa: E402


def run(start, finish, *args):
    """Runs an _async/_finish pair to completion on a private main loop (Debian 12's
    PyGObject 3.42 has no awaitable calls)."""
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, result):
        try:
            outcome['value'] = finish(result)
        except GLib.Error as error:
            outcome['error'] = error
        loop.quit()

    start(*args, None, done)
    loop.run()
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


class ServerTestCase(unittest.TestCase):
    """Runs the bbsync-server program of this build ($BBSYNC_SERVER) on a free loopback
    port for the test class; its URL is cls.base_url. A subclass adds options to the
    server's command line with server_args."""

    server_args = []

    @classmethod
    def setUpClass(cls):
        server = os.environ.get('BBSYNC_SERVER')
        if not server or not os.path.exists(server):
            raise unittest.SkipTest('BBSYNC_SERVER is not built')
        cls.server = subprocess.Popen([server, '--listen', '127.0.0.1:0', '--database', ':memory:',
                                       *cls.server_args],
                                      stdout=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline().strip()
        cls.base_url = line.split()[-1]
        assert cls.base_url.startswith('http://127.0.0.1:'), line

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)
        cls.server.stdout.close()
