#if canImport(Glibc)
import Glibc
#endif
import CLibUSB
import Synchronization

/// A card reader the till reads directly (not through the terminal).
public enum CardReaderSource: Sendable, Hashable, CustomStringConvertible {
    /// An evdev device (/dev/input/by-id/…-event-kbd), grabbed so no other program sees its keys.
    case evdev(path: String)
    /// A USB HID keyboard-emulating reader through libusb, chosen by vendor and product ID.
    case hid(vendorID: UInt16, productID: UInt16)

    public var description: String {
        switch self {
        case .evdev(let p): "evdev:\(p)"
        case .hid(let v, let p): "hid:\(Self.hex(v)):\(Self.hex(p))"
        }
    }

    static func hex(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    /// Parses "VID:PID" (hex), as in `[readers] hid = ["0801:0002"]`.
    public static func parseHID(_ text: String) -> CardReaderSource? {
        var t = Substring(text)
        if t.hasPrefix("usb:") { t = t.dropFirst(4) }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 4 }),
              let v = UInt16(parts[0], radix: 16), let p = UInt16(parts[1], radix: 16) else { return nil }
        return .hid(vendorID: v, productID: p)
    }
}

/// What a reader reported.
public enum CardReaderEvent: Sendable, Hashable {
    /// Data read from a card (digits, or magnetic-stripe track text).
    case read(String, from: String)
    /// The reader is open and being read (evdev: grabbed exclusively).
    case ready(String, source: String)
    /// The reader cannot be used now; the till retries every few seconds.
    case problem(String, source: String)
}

/// Reads every configured card reader on its own thread and queues what they read. The till
/// takes the queue on its main loop; a reader that is unplugged is reported once and reopened
/// when it comes back.
public final class CardReaderHub: Sendable {
    public let sources: [CardReaderSource]
    private let queue = Mutex<[CardReaderEvent]>([])
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    public init(sources: [CardReaderSource]) {
        self.sources = sources
    }

    public func start() {
        for s in sources {
            running.add(1, ordering: .sequentiallyConsistent)
            let thread = ReaderThread(source: s, hub: self)
            var tid = pthread_t()
            let box = Unmanaged.passRetained(thread).toOpaque()
            pthread_create(&tid, nil, { arg in
                let t = Unmanaged<ReaderThread>.fromOpaque(arg!).takeRetainedValue()
                t.run()
                return nil
            }, box)
            pthread_detach(tid)
        }
    }

    /// Asks the reader threads to stop (they notice within 200 ms) and waits for them.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        for _ in 0..<50 where running.load(ordering: .sequentiallyConsistent) > 0 { usleep(10_000) }
    }

    /// Everything read since the last call, in order.
    public func take() -> [CardReaderEvent] {
        queue.withLock { q in
            defer { q.removeAll() }
            return q
        }
    }

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }
    func post(_ e: CardReaderEvent) { queue.withLock { $0.append(e) } }
    func finished() { running.subtract(1, ordering: .sequentiallyConsistent) }
}

/// One reader's loop: open, read until it fails or the hub stops, report, retry.
final class ReaderThread: @unchecked Sendable { // owned by its one thread
    let source: CardReaderSource
    let hub: CardReaderHub
    init(source: CardReaderSource, hub: CardReaderHub) {
        self.source = source
        self.hub = hub
    }

    func run() {
        defer { hub.finished() }
        var lastProblem: String?
        while !hub.isStopping {
            do {
                switch source {
                case .evdev(let path): try readEvdev(path)
                case .hid(let v, let p): try readHID(vendorID: v, productID: p)
                }
            } catch {
                if error.message != lastProblem { hub.post(.problem(error.message, source: source.description)) }
                lastProblem = error.message
            }
            // Retry in 2 s, checking for stop meanwhile.
            for _ in 0..<20 where !hub.isStopping { usleep(100_000) }
        }
    }

    static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    // MARK: evdev

    static let evioCGrab: UInt = (1 << 30) | (4 << 16) | (0x45 << 8) | 0x90

    func readEvdev(_ path: String) throws(ReaderError) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == EACCES {
                throw ReaderError("Card reader \(path): permission denied: add the till's user to the 'input' group and install Drivers/udev/60-till.rules")
            }
            throw ReaderError("Card reader \(path) is not connected (\(String(cString: strerror(e)))): plug it in, or check [readers] evdev in the configuration")
        }
        defer { close(fd) }
        var one: Int32 = 1
        guard ioctl(fd, Self.evioCGrab, &one) == 0 else {
            let e = errno
            throw ReaderError("Card reader \(path) is in use by another program (grab failed: \(String(cString: strerror(e)))): close it, then the till retries")
        }
        hub.post(.ready("Card reader \(path) ready (grabbed)", source: source.description))
        var assembler = ReadAssembler()
        var event = [UInt8](repeating: 0, count: 24) // struct input_event on 64-bit Linux
        while !hub.isStopping {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, 100)
            if r < 0 && errno != EINTR { throw ReaderError("Card reader \(path) failed: \(String(cString: strerror(errno)))") }
            if p.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { throw ReaderError("Card reader \(path) was unplugged: plug it back in") }
            while true {
                let n = read(fd, &event, 24)
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { break }
                    throw ReaderError("Card reader \(path) was unplugged (\(String(cString: strerror(errno)))): plug it back in")
                }
                if n == 0 { throw ReaderError("Card reader \(path) was unplugged: plug it back in") }
                guard n == 24 else { break }
                let type = UInt16(event[16]) | UInt16(event[17]) << 8
                let code = UInt16(event[18]) | UInt16(event[19]) << 8
                let value = Int32(bitPattern: UInt32(event[20]) | UInt32(event[21]) << 8 | UInt32(event[22]) << 16 | UInt32(event[23]) << 24)
                guard type == 1, value == 0 || value == 1 else { continue } // EV_KEY press/release
                if let text = assembler.press(KeyTables.evdev(code), down: value == 1, at: Self.milliseconds()) {
                    hub.post(.read(text, from: source.description))
                }
            }
            if let text = assembler.flush(at: Self.milliseconds()) { hub.post(.read(text, from: source.description)) }
        }
    }

    // MARK: USB HID (libusb)

    func readHID(vendorID: UInt16, productID: UInt16) throws(ReaderError) {
        let name = source.description
        var ctx: OpaquePointer?
        guard libusb_init(&ctx) == 0, let ctx else { throw ReaderError("Card reader \(name): libusb cannot start") }
        defer { libusb_exit(ctx) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(ctx, &list)
        var device: OpaquePointer?
        for i in 0..<max(0, count) {
            guard let dev = list?[i] else { continue }
            var d = libusb_device_descriptor()
            if libusb_get_device_descriptor(dev, &d) == 0, d.idVendor == vendorID, d.idProduct == productID {
                device = libusb_ref_device(dev)
                break
            }
        }
        if let list { libusb_free_device_list(list, 1) }
        guard let device else {
            throw ReaderError("Card reader \(name) is not connected: plug it in (`lsusb` lists what is connected), or check [readers] hid")
        }
        defer { libusb_unref_device(device) }
        // The HID interface and its interrupt IN endpoint.
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        guard libusb_get_active_config_descriptor(device, &config) == 0, let config else {
            throw ReaderError("Card reader \(name): cannot read its USB configuration")
        }
        var found: (Int32, UInt8, Int32)?
        for i in 0..<Int(config.pointee.bNumInterfaces) where found == nil {
            let interface = config.pointee.interface[i]
            guard interface.num_altsetting > 0 else { continue }
            let alt = interface.altsetting[0]
            guard alt.bInterfaceClass == 3 else { continue }
            for e in 0..<Int(alt.bNumEndpoints) {
                let ep = alt.endpoint[e]
                if ep.bmAttributes & 0x03 == 3, ep.bEndpointAddress & 0x80 != 0 {
                    found = (Int32(alt.bInterfaceNumber), ep.bEndpointAddress, Int32(ep.wMaxPacketSize))
                    break
                }
            }
        }
        libusb_free_config_descriptor(config)
        guard let (iface, endpoint, packet) = found else {
            throw ReaderError("Card reader \(name) has no HID interface with an interrupt endpoint: is it a keyboard-emulating reader?")
        }
        var handle: OpaquePointer?
        let opened = libusb_open(device, &handle)
        guard opened == 0, let handle else {
            if opened == LIBUSB_ERROR_ACCESS.rawValue {
                throw ReaderError("Card reader \(name): permission denied: install Drivers/udev/60-till.rules, then replug the reader")
            }
            throw ReaderError("Card reader \(name) cannot be opened (\(Self.usbError(opened)))")
        }
        defer { libusb_close(handle) }
        if libusb_kernel_driver_active(handle, iface) == 1 {
            let r = libusb_detach_kernel_driver(handle, iface)
            guard r == 0 else { throw ReaderError("Card reader \(name): the kernel's keyboard driver holds it and could not be detached (\(Self.usbError(r)))") }
        }
        let claimed = libusb_claim_interface(handle, iface)
        guard claimed == 0 else { throw ReaderError("Card reader \(name) is in use by another program (\(Self.usbError(claimed)))") }
        defer { libusb_release_interface(handle, iface) }
        // Boot protocol: 8-byte keyboard reports (modifiers, reserved, up to six keys). Readers
        // that only speak boot protocol may refuse the request; their reports are boot already.
        _ = libusb_control_transfer(handle, 0x21, 0x0B, 0, UInt16(iface), nil, 0, 500)
        hub.post(.ready("Card reader \(name) ready", source: name))
        var assembler = ReadAssembler()
        var previous: Set<UInt8> = []
        var buffer = [UInt8](repeating: 0, count: max(8, Int(packet)))
        while !hub.isStopping {
            var got: Int32 = 0
            let r = libusb_interrupt_transfer(handle, endpoint, &buffer, Int32(buffer.count), &got, 100)
            if r == LIBUSB_ERROR_TIMEOUT.rawValue {
                if let text = assembler.flush(at: Self.milliseconds()) { hub.post(.read(text, from: name)) }
                continue
            }
            if r == LIBUSB_ERROR_NO_DEVICE.rawValue { throw ReaderError("Card reader \(name) was unplugged: plug it back in") }
            guard r == 0 else { throw ReaderError("Card reader \(name) failed (\(Self.usbError(r)))") }
            guard got >= 3 else { continue }
            let shift = buffer[0] & 0x22 != 0
            let keys = Set(buffer[2..<Int(min(got, 8))].filter { $0 > 3 })
            let now = Self.milliseconds()
            assembler.shift = shift
            for usage in buffer[2..<Int(min(got, 8))] where usage > 3 && !previous.contains(usage) {
                if let text = assembler.press(KeyTables.hid(usage), down: true, at: now) { hub.post(.read(text, from: name)) }
            }
            previous = keys
        }
    }

    static func usbError(_ code: Int32) -> String {
        libusb_error_name(code).map { String(cString: $0) } ?? "error \(code)"
    }
}

struct ReaderError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
