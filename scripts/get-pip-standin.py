# ganeti.rapi get-pip stand-in (marker line: keep it, scripts/ansible-test.sh looks for it)
"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip into the venvs it creates by running get-pip.py, which it downloads from
a host that is not reachable from our machines, unless ~/.ansible/test/cache/get_pip_<version>.py
already exists. scripts/ansible-test.sh copies this file there. It installs pip from the
interpreter's own ensurepip, then lets that pip install the requested packages (pip==<version>,
and setuptools/wheel on older ansible-core lines) from the package index.
"""

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    try:
        import ensurepip  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        sys.exit('get-pip stand-in: %s has no ensurepip module (on Debian: apt-get install python3-venv)' % sys.executable)
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)


if __name__ == '__main__':
    main()
