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
import errno, json, os, struct, subprocess, sys, threading
import gi
gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev

def _IOC(d, t, nr, size): return (d << 30) | (size << 16) | (ord(t) << 8) | nr
_IO = lambda t, nr: _IOC(0, t, nr, 0)
_IOR = lambda t, nr, s: _IOC(2, t, nr, s)
_IOW = lambda t, nr, s: _IOC(1, t, nr, s)
_IOWR = lambda t, nr, s: _IOC(3, t, nr, s)
URB_SIZE = 56                      # struct usbdevfs_urb on x86_64
GETDRIVER = _IOW('U', 8, 260)
SUBMITURB = _IOR('U', 10, URB_SIZE)
DISCARDURB = _IO('U', 11)
REAPURB = _IOW('U', 12, 8)
REAPURBNDELAY = _IOW('U', 13, 8)
CLAIM = _IOR('U', 15, 4)
RELEASE = _IOR('U', 16, 4)
USBIOCTL = _IOWR('U', 18, 16)
DISCONNECT = _IO('U', 22)
GET_CAPS = _IOR('U', 26, 4)
CAPS = 0x01 | 0x02 | 0x04 | 0x08

# DLE EOT n answers: 1 printer, 2 offline cause, 4 paper sensor.
ANSWERS = {
    'online':   {1: 0x16, 2: 0x12, 4: 0x12},
    'paperout': {1: 0x1E, 2: 0x32, 4: 0x72},
}

class FakePrinter:
    def __init__(self, status):
        self.lock = threading.Lock()
        self.answers = ANSWERS[status]
        self.driver = b"usblp"
        self.claimed = set()
        self.written = bytearray()
        self.replies = bytearray()
        self.inflight = []
        self.discarded = []
        self.log = []
        self.detached = False

    def handle(self, handler, client):
        req, arg = client.get_request(), client.get_arg()
        with self.lock:
            if req == GET_CAPS:
                d = arg.resolve(0, 4); d.update(0, struct.pack('I', CAPS)); client.complete(0, 0)
            elif req == GETDRIVER:
                d = arg.resolve(0, 260)
                if self.driver:
                    d.update(4, self.driver + b"\0"); client.complete(0, 0)
                else:
                    client.complete(-1, errno.ENODATA)
            elif req == USBIOCTL:
                ifno, code = struct.unpack_from('ii', bytes(arg.resolve(0, 16).retrieve()))
                if code == DISCONNECT and self.driver:
                    self.log.append(f"detached kernel driver {self.driver.decode()} from interface {ifno}")
                    self.driver = None; self.detached = True; client.complete(0, 0)
                else:
                    client.complete(-1, errno.ENODATA)
            elif req in (CLAIM, RELEASE):
                ifno = struct.unpack('I', bytes(arg.resolve(0, 4).retrieve()))[0]
                if req == CLAIM and self.driver:
                    client.complete(-1, errno.EBUSY)
                else:
                    (self.claimed.add if req == CLAIM else self.claimed.discard)(ifno)
                    client.complete(0, 0)
            elif req == SUBMITURB:
                urb = arg.resolve(0, URB_SIZE)
                typ, ep = struct.unpack_from('BB', bytes(urb.retrieve()))
                length = struct.unpack_from('i', bytes(urb.retrieve()), 24)[0]
                buf = urb.resolve(16, length)
                if 0 not in self.claimed:
                    client.complete(-1, errno.EINVAL); return True
                if not ep & 0x80:
                    data = bytes(buf.retrieve())
                    self.written += data
                    if len(data) == 3 and data[:2] == b"\x10\x04" and data[2] in self.answers:
                        self.replies.append(self.answers[data[2]])
                self.inflight.append([urb, buf, ep, length])
                client.complete(0, 0)
            elif req == DISCARDURB:
                for i, u in enumerate(self.inflight):
                    if u[0].client_addr == struct.unpack('Q', bytes(arg.retrieve()))[0]:
                        self.discarded.append(self.inflight.pop(i)); client.complete(0, 0); return True
                client.complete(-1, errno.EINVAL)
            elif req in (REAPURB, REAPURBNDELAY):
                done = None
                if self.discarded:
                    done = self.discarded.pop(0); status, actual = -errno.ENOENT, 0
                else:
                    for i, u in enumerate(self.inflight):
                        if not u[2] & 0x80:
                            done = self.inflight.pop(i); status, actual = 0, u[3]; break
                        if self.replies:
                            data = bytes(self.replies[:u[3]]); del self.replies[:len(data)]
                            u[1].update(0, data)
                            done = self.inflight.pop(i); status, actual = 0, len(data); break
                if done is None:
                    client.complete(-1, errno.EAGAIN); return True
                done[0].update(4, struct.pack('i', status))
                done[0].update(28, struct.pack('i', actual))
                arg.resolve(0, 8).set_ptr(0, done[0])
                client.complete(0, 0)
            else:
                self.log.append(f"unhandled ioctl 0x{req:08X}")
                client.complete(-1, errno.ENOTTY)
        return True

def main():
    args = sys.argv[1:]
    sep = args.index('--')
    opts, cmd = args[:sep], args[sep + 1:]
    report = opts[opts.index('--report') + 1]
    status = opts[opts.index('--status') + 1] if '--status' in opts else 'online'
    tb = UMockdev.Testbed.new()
    fake = FakePrinter(status)
    if '--no-device' not in opts:
        tb.add_from_string(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'printer.umockdev')).read())
        handler = UMockdev.IoctlBase()
        handler.connect('handle-ioctl', fake.handle)
        tb.attach_ioctl('/dev/bus/usb/001/005', handler)
    rc = subprocess.run(cmd).returncode
    with open(report, 'w') as f:
        json.dump({"rc": rc, "written": fake.written.hex(), "detached": fake.detached, "log": fake.log}, f)
    sys.exit(rc)

main()
