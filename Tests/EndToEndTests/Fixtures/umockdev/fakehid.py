#!/usr/bin/python3
"""A fake USB HID card reader (boot keyboard, 0801:0002, usbhid bound) for the till's tests.

Run:  umockdev-wrapper /usr/bin/python3 fakehid.py --report REPORT.json --text TEXT [--delay-ms N] -- PROGRAM ARGS...

Once the interface is claimed and `--delay-ms` has passed, it answers interrupt IN transfers on
EP 0x81 with 8-byte boot keyboard reports typing TEXT and Enter (a press and a release report per
character, US layout), as a keyboard-emulating magnetic-stripe reader does. Control transfers
(SET_PROTOCOL) succeed. The report: {"rc", "detached", "log", "sent": reports sent}.
"""
import time
from fakeusb import FakeUSBDevice, run, split_args, option

SHIFTED = {'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
           '_': '-', '+': '=', '{': '[', '}': ']', '|': '\\', ':': ';', '"': "'", '~': '`', '<': ',', '>': '.', '?': '/'}
PLAIN = "-=[]\\#;'`,./"

def usage(c):
    """(modifier, usage) for a character, US layout."""
    shift = 0
    if c in SHIFTED: c, shift = SHIFTED[c], 0x02
    elif c.isalpha() and c.isupper(): c, shift = c.lower(), 0x02
    if 'a' <= c <= 'z': return shift, 0x04 + ord(c) - ord('a')
    if '1' <= c <= '9': return shift, 0x1E + ord(c) - ord('1')
    if c == '0': return shift, 0x27
    if c == ' ': return shift, 0x2C
    if c == '\n': return shift, 0x28
    return shift, 0x2D + PLAIN.index(c)

def reports(text):
    out = []
    for c in text + '\n':
        mod, u = usage(c)
        out.append(bytes([mod, 0, u, 0, 0, 0, 0, 0]))
        out.append(bytes(8))
    return out

class FakeReader(FakeUSBDevice):
    def __init__(self, text, delay):
        super().__init__("usbhid")
        self.pending = reports(text)
        self.sent = 0
        self.delay = delay
        self.claimed_at = None

    def ready(self, entry):
        ep, length, typ = entry[2], entry[3], entry[4]
        if ep == 0:
            return (0, 0)                      # control transfers (SET_PROTOCOL): accepted
        if 0 in self.claimed and self.claimed_at is None:
            self.claimed_at = time.monotonic()
        if ep != 0x81 or not self.pending or self.claimed_at is None:
            return None
        if time.monotonic() - self.claimed_at < self.delay:
            return None
        self.sent += 1
        return (0, self.pending.pop(0)[:length])

opts, cmd = split_args()
fake = FakeReader(option(opts, '--text'), int(option(opts, '--delay-ms', '300')) / 1000)
run(fake, 'hidreader.umockdev', '/dev/bus/usb/001/006', cmd, option(opts, '--report'), lambda: {"sent": fake.sent})
