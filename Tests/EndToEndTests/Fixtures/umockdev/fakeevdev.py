#!/usr/bin/python3
"""A fake evdev card reader (/dev/input/event5) for the till's tests.

Run:  umockdev-wrapper /usr/bin/python3 fakeevdev.py --report REPORT.json --evemu SCRIPT.evemu
          [--trigger FILE] -- PROGRAM ARGS...

It builds a umockdev testbed with evdev.umockdev, answers EVIOCGRAB (recording each grab) and
EVIOCGNAME, and replays the evemu script on the device once FILE exists (at once without
--trigger), so a test decides when the card is swiped. The report: {"rc", "grabs": [1, …], "log"}.
"""
import errno, json, os, subprocess, sys, time
import gi
gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev, GLib
from fakeusb import _IOC, FIXTURES, split_args, option

EVIOCGRAB = _IOC(1, 'E', 0x90, 4)
state = {"grabs": [], "log": []}

def handle(handler, client):
    req, arg = client.get_request(), client.get_arg()
    if req == EVIOCGRAB:
        state["grabs"].append(1)
        client.complete(0, 0)
    elif req & 0xC000FFFF == (2 << 30) | 0x4506:        # EVIOCGNAME(len)
        size = (req >> 16) & 0x3FFF
        name = b"Fake Magstripe Reader\0"[:size]
        arg.resolve(0, size).update(0, name)
        client.complete(len(name), 0)
    else:
        state["log"].append(f"unhandled ioctl 0x{req:08X}")
        client.complete(-1, errno.ENOTTY)
    return True

opts, cmd = split_args()
tb = UMockdev.Testbed.new()
tb.add_from_string(open(os.path.join(FIXTURES, 'evdev.umockdev')).read())
handler = UMockdev.IoctlBase()
handler.connect('handle-ioctl', handle)
tb.attach_ioctl('/dev/input/event5', handler)
trigger, evemu = option(opts, '--trigger'), option(opts, '--evemu')
p = subprocess.Popen(cmd)
loaded = False
ctx = GLib.MainContext.default()
while p.poll() is None:
    if not loaded and (trigger is None or os.path.exists(trigger)):
        tb.load_evemu_events('/dev/input/event5', evemu)
        loaded = True
    ctx.iteration(False)
    time.sleep(0.005)
state["rc"] = p.returncode
with open(option(opts, '--report'), 'w') as f:
    json.dump(state, f)
sys.exit(p.returncode)
