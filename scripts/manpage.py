#!/usr/bin/python3
"""Print aiengine(8) in roff, generated from the binary's own help: `aiengine --help` for the
synopsis and the command list, `aiengine <command> --help` for each command's usage and
options. So the man page cannot drift from the CLI (debian/rules runs it at build time).

usage: scripts/manpage.py path/to/aiengine > aiengine.8
"""
import re
import subprocess
import sys


def run(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True, env={"LC_ALL": "C"})
    if r.returncode:
        sys.exit(f"{binary} {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def esc(text):
    """Escape text for roff: backslashes, hyphens in options, leading dots and quotes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def main():
    binary = sys.argv[1]
    version = run(binary, "--version").split()[-1]
    top = run(binary, "--help")
    commands = []
    intro = []
    section = None
    for line in top.splitlines():
        if line in ("commands:", "options:"):
            section = line[:-1]
            continue
        m = re.match(r"  (\S+)\s{2,}(.*)", line)
        if section == "commands" and m:
            commands.append((m.group(1), m.group(2)))
        elif section is None and line and not line.startswith("usage:"):
            intro.append(line)
    out = [
        f'.TH AIENGINE 8 "" "aiengine {version}" "System Administration"',
        ".SH NAME",
        "aiengine \\- AI automation engine: JSON API (FastCGI) and workflow runner",
        ".SH SYNOPSIS",
        ".B aiengine",
        "[\\fB\\-\\-etc\\fR \\fIDIR\\fR] \\fIcommand\\fR [\\fIoptions\\fR]",
        ".br",
        ".B aiengine",
        "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR",
        ".SH DESCRIPTION",
        esc(" ".join(intro)),
        ".PP",
        "The API runs as",
        ".B aiengine serve",
        "(systemd unit aiengine.service) behind nginx or Apache; the engine as",
        ".B aiengine work",
        "(aiengine\\-work.service). Both re\\-read their configuration on SIGHUP",
        "(systemctl reload); a configuration that does not load is refused and the running one",
        "keeps serving.",
        ".SH COMMANDS",
    ]
    for name, _ in commands:
        text = run(binary, name, "--help")
        lines = text.splitlines()
        usage = lines[0][len("usage: "):]
        body, opts, part = [], [], "body"
        for line in lines[1:]:
            if line == "options:":
                part = "opts"
                continue
            m = re.match(r"  (\S.*?)\s{2,}(\S.*)", line)
            if m and (part == "opts" or line.startswith("  -")):
                opts.append((m.group(1), m.group(2)))
            elif line.strip():
                body.append(line.strip())
        out += [".TP", f"\\fB{esc(usage)}\\fR", esc(" ".join(body))]
        for left, right in opts:
            if left in ("--etc DIR", "-h, --help"):
                continue  # every command takes these; said once below
            out += [".RS", ".TP", f"\\fB{esc(left)}\\fR", esc(right), ".RE"]
    out += [
        ".SH OPTIONS",
        ".TP", "\\fB\\-\\-etc\\fR \\fIDIR\\fR",
        "Read the configuration from DIR (before or after the command).",
        ".TP", "\\fB\\-h\\fR, \\fB\\-\\-help\\fR",
        "Show the help of aiengine or of a command, and do nothing else.",
        ".TP", "\\fB\\-\\-version\\fR", "Print the version.",
        ".PP",
        "Options must be spelt out in full; unknown or misspelt options are refused with the",
        "command's usage line and exit status 2.",
        ".SH ENVIRONMENT",
        "Every setting of aiengine.yaml can be overridden by a variable named in its comment",
        "(AIENGINE_DB_HOST, AIENGINE_DB_PASSWORD, AIENGINE_APP_KEY, ...). The systemd units read",
        "them from /etc/default/aiengine, along with the engine's model keys",
        "(GEMINI_API_KEY, OPENAI_API_KEY) and CRM_URL.",
        ".SH FILES",
        ".TP", "/etc/aiengine/aiengine.yaml",
        "Listen socket, workers, limits, database settings (root:aiengine 0640).",
        ".TP", "/etc/aiengine/app.key",
        "The key that signs pagination cursors, made at install (root:aiengine 0640).",
        ".TP", "/etc/aiengine/routes.yaml, /etc/aiengine/resources.yaml, /etc/aiengine/engine.yaml",
        "Routes, resources and the engine's providers.",
        ".TP", "/usr/share/aiengine/migrations/",
        "Schema migrations, applied by \\fBaiengine migrate\\fR.",
        ".TP", "/etc/nginx/snippets/aiengine.conf, /etc/apache2/conf\\-available/aiengine.conf",
        "The front\\-end snippets; example sites in sites\\-available/.",
        ".SH EXIT STATUS",
        "0 on success, 1 when the command failed, 2 on a usage error.",
        ".SH SEE ALSO",
        "/usr/share/doc/aiengine/operations.md.gz",
    ]
    print("\n".join(out))


main()
