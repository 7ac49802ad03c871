#!/usr/bin/python3
"""A behavioural fake ESC/POS USB printer for the till's tests (after ../shared/recipes).

Run:  umockdev-wrapper /usr/bin/python3 fakeprinter.py --report REPORT.json [--status online|paperout]
          [--no-device] -- PROGRAM ARGS...

It builds a umockdev testbed with printer.umockdev (an Epson-like 04b8:0202 with the kernel's
usblp driver bound), answers the usbdevfs ioctls libusb issues (GETDRIVER/DISCONNECT so the
detach path runs, CLAIM, SUBMIT/REAP/DISCARD URBs), keeps every byte written to EP 0x01, answers
DLE EOT n on EP 0x82 as an online or paper-out printer would, runs PROGRAM, and writes a report:
{"rc": ..., "written": hex, "detached": bool, "log": [...]}. It exits with PROGRAM's status.
"""
import time
from fakeusb import FakeUSBDevice, run, split_args, option

# DLE EOT n answers: 1 printer, 2 offline cause, 4 paper sensor.
ANSWERS = {
    'online':   {1: 0x16, 2: 0x12, 4: 0x12},
    'paperout': {1: 0x1E, 2: 0x32, 4: 0x72},
}

class FakePrinter(FakeUSBDevice):
    def __init__(self, status):
        super().__init__("usblp")
        self.answers = ANSWERS[status]
        self.written = bytearray()
        self.replies = bytearray()
        self.writes = []     # [wall time, bytes, is a status request] for each OUT transfer

    def submitted(self, entry):
        ep, buf = entry[2], entry[1]
        if not ep & 0x80:
            data = bytes(buf.retrieve())
            self.written += data
            status = len(data) == 3 and data[:2] == b"\x10\x04"
            self.writes.append([time.time(), len(data), 1 if status else 0])
            if status and data[2] in self.answers:
                self.replies.append(self.answers[data[2]])

    def ready(self, entry):
        ep, length = entry[2], entry[3]
        if not ep & 0x80:
            return (0, length)
        if self.replies:
            data = bytes(self.replies[:length]); del self.replies[:len(data)]
            return (0, data)
        return None

opts, cmd = split_args()
fake = FakePrinter(option(opts, '--status', 'online'))
run(fake, 'printer.umockdev', '/dev/bus/usb/001/005', cmd, option(opts, '--report'),
    lambda: {"written": fake.written.hex(), "writes": fake.writes}, attach='--no-device' not in opts)
