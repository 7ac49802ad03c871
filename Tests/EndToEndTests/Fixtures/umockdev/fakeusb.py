"""Shared plumbing for the till's umockdev USB fakes (after ../shared/recipes): the usbdevfs
ioctls libusb issues, answered by a device subclass that says what its endpoints do.

A subclass implements `submitted(entry)` (an URB was submitted; entry = [urb, buf, ep, length,
type]) and `ready(entry)` (return (status, data-or-length) when the URB completes now, or None).
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
FIXTURES = os.path.dirname(os.path.abspath(__file__))


class FakeUSBDevice:
    def __init__(self, driver):
        self.lock = threading.Lock()
        self.driver = driver.encode() if driver else None
        self.claimed = set()
        self.inflight = []
        self.discarded = []
        self.log = []
        self.detached = False

    def submitted(self, entry): pass
    def ready(self, entry): return None

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
                if ep != 0 and 0 not in self.claimed:
                    client.complete(-1, errno.EINVAL); return True
                entry = [urb, buf, ep, length, typ]
                self.submitted(entry)
                self.inflight.append(entry)
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
                        r = self.ready(u)
                        if r is not None:
                            status, data = r
                            if isinstance(data, (bytes, bytearray)):
                                u[1].update(0, bytes(data)); actual = len(data)
                            else:
                                actual = data
                            done = self.inflight.pop(i); break
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


def run(fake, device_file, devnode, cmd, report, extra, attach=True):
    """Builds the testbed with `device_file`, runs `cmd`, writes the report; exits with cmd's status."""
    tb = UMockdev.Testbed.new()
    if attach:
        tb.add_from_string(open(os.path.join(FIXTURES, device_file)).read())
        handler = UMockdev.IoctlBase()
        handler.connect('handle-ioctl', fake.handle)
        tb.attach_ioctl(devnode, handler)
    rc = subprocess.run(cmd).returncode
    with open(report, 'w') as f:
        json.dump(dict({"rc": rc, "detached": fake.detached, "log": fake.log}, **extra()), f)
    sys.exit(rc)


def split_args():
    args = sys.argv[1:]
    sep = args.index('--')
    return args[:sep], args[sep + 1:]


def option(opts, name, default=None):
    return opts[opts.index(name) + 1] if name in opts else default
