# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Derive the plugins' connection options from the module's ``source`` (run after changing either).

    .venv/2.21/bin/python scripts/connection-fragment.py     (any Python with ansible-core and PyYAML)

rewrites the PLUGIN string of plugins/doc_fragments/connection.py (doc fragment ganeti.rapi.connection.plugin,
flat options with env entries, as Ansible's configuration wants them for plugins) from:

- plugins/module_utils/connection_options.py: the settings, their types, defaults and environment variables
  (connection_argument_spec("source"), env_names);
- the same file's DOCUMENTATION, the module's ``source`` suboptions: the descriptions, without their "Falls back
  to" lines (the env entries say it) and with O(source.X) as O(X).

tests/unit/plugins/inventory/test_connection_fragment.py fails when the file differs from what this script writes
now. doc fragments must hold string constants (ansible-test's yamllint reads them from the source), hence a
generated constant rather than one computed at import time.
"""

import importlib.util
import os
import re

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FRAGMENT = os.path.join(ROOT, "plugins", "doc_fragments", "connection.py")
START = "    PLUGIN = r'''\n"
END = "'''\n"
NOTES = ["The connection options and their environment variables are those of the "
         "O(ganeti.rapi.ganeti_move_instance#module:source) option of M(ganeti.rapi.ganeti_move_instance). "
         "An environment variable set to an empty string counts as unset."]


def load(name):
    """``plugins.NAME`` of this collection, with the loader of scripts/role-argument-specs.py."""
    spec = importlib.util.spec_from_file_location(
        "role_argument_specs", os.path.join(os.path.dirname(os.path.abspath(__file__)), "role-argument-specs.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script.load(name)


def plugin_options(connection_options, module_doc):
    documented = yaml.safe_load(module_doc)["options"]["source"]["suboptions"]
    spec = connection_options.connection_argument_spec("source")
    options = {}
    for setting in connection_options.SETTINGS:
        lines = [re.sub(r"O\(source\.([^)]+)\)", r"O(\1)", line).replace(" in the task", " in the same file")
                 for line in documented[setting]["description"] if not line.startswith("Falls back to")]
        names = connection_options.env_names("source", setting)
        if len(names) > 1:
            lines.append("%s wins over %s." % (" ".join("E(%s)" % n for n in names[:1]),
                                               ", ".join("E(%s)" % n for n in names[1:])))
        option = {"description": lines, "type": spec[setting]["type"]}
        if "default" in spec[setting]:
            option["default"] = spec[setting]["default"]
        # Ansible's configuration takes the LAST env entry that is set: the winner goes last
        option["env"] = [{"name": name} for name in reversed(names)]
        options[setting] = option
    return {"options": options, "notes": NOTES, "requirements": ["requests"]}


class Indented(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key, as yamllint wants
        return super().increase_indent(flow, False)


def render(connection_options, module_doc):
    return "\n" + yaml.dump(plugin_options(connection_options, module_doc), Dumper=Indented, sort_keys=False,
                            width=110, allow_unicode=True)


def rewritten(text, body):
    """The fragment file's text with PLUGIN's string replaced by ``body``."""
    start = text.index(START) + len(START)
    end = text.index(END, start)
    return text[:start] + body.lstrip("\n") + text[end:]


def main():
    fragment = load("doc_fragments.connection")
    with open(FRAGMENT) as handle:
        text = handle.read()
    new = rewritten(text, render(load("module_utils.connection_options"), fragment.ModuleDocFragment.DOCUMENTATION))
    if new != text:
        with open(FRAGMENT, "w") as handle:
            handle.write(new)
        print("wrote %s" % os.path.relpath(FRAGMENT, ROOT))


if __name__ == "__main__":
    main()
