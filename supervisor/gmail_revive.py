"""supervisord event listener: starts again a program that supervisord has given up on.

supervisord retries a program that dies while starting (BACKOFF, 1 s, 2 s, ... apart) only
`startretries` times; then it marks it FATAL and leaves it down for good. This listener,
`[eventlistener:gmail-revive]` in supervisord.conf, hears PROCESS_STATE_FATAL and, after a
cool-down, starts the program again through supervisord's XML-RPC interface. The cool-down
grows with each revival that did not lead to a stable run:

    GMAIL_SUPERVISOR_REVIVE_SECS        first cool-down (5), doubled after every revival
    GMAIL_SUPERVISOR_REVIVE_MAX_SECS    its cap (120); also the cool-down after an exit with
                                        code 2 (configuration error: retrying soon is no use)
    GMAIL_SUPERVISOR_REVIVE_STABLE_SECS a RUNNING spell this long resets the cool-down (120)

read from supervisord's environment. Only FATAL is acted on: a program stopped on purpose
(STOPPED, EXITED by `autorestart`'s choice) is left alone, and a pending revival is dropped as
soon as the program changes state some other way (e.g. `supervisorctl start`). To stop the
revivals, stop the listener: `supervisorctl stop gmail-revive`.

It speaks the event listener protocol on stdin/stdout (READY, then `RESULT 2\\nOK` per event;
nothing else is ever written to stdout) and logs what it does to stderr.
"""

import math
import os
import re
import select
import sys
import time
import xmlrpc.client

from supervisor import childutils
from supervisor.xmlrpc import Faults

CONFIG_ERROR_EXIT = 2
LOG_TAIL_BYTES = 16384


def log(message):
    sys.stderr.write("%s gmail-revive: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), message))
    sys.stderr.flush()


def env_secs(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        log("ignoring %s=%r (not a positive number of seconds); using %g" % (name, raw, default))
        return default
    return value


class Reviver:
    def __init__(self, rpc, base, cap, stable, own_group=None):
        self.rpc = rpc
        self.base = base
        self.cap = max(cap, base)
        self.stable = stable
        self.own_group = own_group
        self.level = {}  # namespec -> revivals since its last stable RUNNING spell
        self.due = {}  # namespec -> monotonic time of the next start
        self.fatal = []  # namespecs seen FATAL, to schedule once the event is acknowledged
        self.running_since = {}  # namespec -> monotonic time it entered RUNNING

    def on_event(self, eventname, payload):
        """Bookkeeping only, no RPC: supervisord waits for our RESULT meanwhile."""
        if not eventname.startswith("PROCESS_STATE_"):
            return
        fields = childutils.get_headers(payload)
        group = fields.get("groupname", "")
        if not group or group == self.own_group:
            return
        name = "%s:%s" % (group, fields.get("processname", ""))
        state = eventname[len("PROCESS_STATE_"):]
        now = time.monotonic()
        if fields.get("from_state") == "RUNNING":
            since = self.running_since.pop(name, None)
            if since is not None and now - since >= self.stable and self.level.get(name):
                log("%s ran %.0f s before leaving RUNNING; cool-down reset" % (name, now - since))
                self.level[name] = 0
        if state == "RUNNING":
            self.running_since[name] = now
        if state == "FATAL":
            if name not in self.fatal:
                self.fatal.append(name)
        elif name in self.due or name in self.fatal:
            # Someone else moved it on (a `supervisorctl start`, a stop, a reload).
            if name in self.fatal:
                self.fatal.remove(name)
            if self.due.pop(name, None) is not None:
                log("%s is %s now; its pending revival is dropped" % (name, state))

    def scan(self):
        """At start-up: programs left FATAL while no listener ran."""
        try:
            infos = self.rpc.supervisor.getAllProcessInfo()
        except (xmlrpc.client.Error, OSError) as e:
            log("cannot list the programs: %s" % e)
            return
        for info in infos:
            if info["statename"] == "FATAL" and info["group"] != self.own_group:
                name = "%s:%s" % (info["group"], info["name"])
                if name not in self.fatal and name not in self.due:
                    self.fatal.append(name)

    def cooldown(self, name, exitstatus=None):
        if exitstatus == CONFIG_ERROR_EXIT:
            return self.cap
        return min(self.base * 2 ** min(self.level.get(name, 0), 30), self.cap)

    def last_exit_status(self, name):
        """The exit code of the program's last death, or None (a signal, or not found).

        supervisord keeps no exit code for a process that died before `startsecs` (the only
        way to FATAL): getProcessInfo says None. Its main log has it, though, as
        `exited: NAME (exit status 2; not expected)`, written just before it gave up.
        Best effort: without that line the ordinary cool-down applies.
        """
        process = name.split(":", 1)[-1]
        try:
            tail = self.rpc.supervisor.readLog(-LOG_TAIL_BYTES, 0)
        except (xmlrpc.client.Error, OSError) as e:
            log("cannot read supervisord's log for %s's exit status: %s" % (name, e))
            return None
        exits = re.findall(r"exited: %s \(([^)]*)\)" % re.escape(process), tail)
        if not exits:
            return None
        code = re.match(r"exit status (\d+)", exits[-1])
        return int(code.group(1)) if code else None

    def schedule_fatal(self):
        while self.fatal:
            name = self.fatal.pop(0)
            exitstatus = self.last_exit_status(name)
            delay = self.cooldown(name, exitstatus)
            why = ""
            if exitstatus == CONFIG_ERROR_EXIT:
                why = " (last exit code 2: configuration error)"
            self.due[name] = time.monotonic() + delay
            log("%s is FATAL%s; starting it again in %g s" % (name, why, delay))

    def run_due(self):
        now = time.monotonic()
        for name, when in sorted(self.due.items(), key=lambda item: item[1]):
            if when > now:
                continue
            del self.due[name]
            self.level[name] = self.level.get(name, 0) + 1
            try:
                state = self.rpc.supervisor.getProcessInfo(name)["statename"]
                if state != "FATAL":
                    self.level[name] -= 1
                    log("%s is %s now; not starting it" % (name, state))
                    continue
                self.rpc.supervisor.startProcess(name, False)
                log("started %s again (revival %d in a row)" % (name, self.level[name]))
            except xmlrpc.client.Fault as e:
                if e.faultCode == Faults.BAD_NAME:  # removed from the configuration meanwhile
                    log("%s is no longer configured; forgetting it" % name)
                    self.level.pop(name, None)
                    continue
                self.retry_later(name, e)
            except (xmlrpc.client.Error, OSError) as e:
                self.retry_later(name, e)

    def retry_later(self, name, error):
        delay = self.cooldown(name)
        self.due[name] = time.monotonic() + delay
        log("could not start %s: %s; next try in %g s" % (name, error, delay))

    def timeout(self):
        if self.fatal:
            return 0
        if not self.due:
            return None
        return max(0.0, min(self.due.values()) - time.monotonic())


def main():
    base = env_secs("GMAIL_SUPERVISOR_REVIVE_SECS", 5.0)
    cap = env_secs("GMAIL_SUPERVISOR_REVIVE_MAX_SECS", 120.0)
    stable = env_secs("GMAIL_SUPERVISOR_REVIVE_STABLE_SECS", 120.0)
    reviver = Reviver(
        childutils.getRPCInterface(os.environ),
        base,
        cap,
        stable,
        own_group=os.environ.get("SUPERVISOR_GROUP_NAME"),
    )
    log("watching for FATAL programs (cool-down %g s, doubling, at most %g s; reset after %g s "
        "RUNNING)" % (base, reviver.cap, stable))
    stdin, stdout = sys.stdin.buffer, sys.stdout

    def ready():
        stdout.write("READY\n")
        stdout.flush()

    ready()
    reviver.scan()
    while True:
        reviver.schedule_fatal()
        reviver.run_due()
        try:
            readable, _, _ = select.select([stdin], [], [], reviver.timeout())
        except InterruptedError:
            continue
        if not readable:
            continue
        # One event at a time: supervisord sends nothing more until our next READY, so the
        # buffered reader holds nothing past this event when we select again.
        line = stdin.readline()
        if not line:
            log("stdin closed; exiting")
            return 0
        headers = childutils.get_headers(line.decode("utf-8", "replace"))
        payload = stdin.read(int(headers.get("len", 0))).decode("utf-8", "replace")
        try:
            reviver.on_event(headers.get("eventname", ""), payload)
        except Exception as e:  # never leave supervisord without an answer
            log("could not handle %s %r: %r" % (headers.get("eventname"), payload, e))
        stdout.write("RESULT 2\nOK")
        ready()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
