import CLibUSB
import Synchronization

/// A USB printer through libusb, chosen by vendor and product ID (and serial number when several
/// identical printers are connected). The kernel's usblp driver, if bound, is detached so the
/// till can claim the printer interface; jobs go out on the bulk OUT endpoint with a timeout and
/// status (DLE EOT) comes back on bulk IN.
public struct USBPrinterTransport: PrinterTransport {
    public let vendorID: UInt16
    public let productID: UInt16
    public let serial: String?
    public let timeoutMilliseconds: Int

    /// The printer kept open and claimed between jobs: opening (libusb start, the device list,
    /// claiming the interface) costs more than printing a receipt's first line. Dropped on any
    /// error, so a printer unplugged and plugged back is opened afresh.
    private let kept = KeptSession()

    public init(vendorID: UInt16, productID: UInt16, serial: String? = nil, timeoutMilliseconds: Int = 5_000) {
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    final class KeptSession: @unchecked Sendable { // `session` is only touched under `lock`
        let lock = Mutex(())
        var session: Session?
    }

    /// Runs `body` on the kept session (opening it first if there is none); an error closes it.
    private func withSession<T>(_ body: (Session) throws(PrinterError) -> T) throws(PrinterError) -> T {
        let result: Result<T, PrinterError> = kept.lock.withLock { _ in
            do {
                let s: Session
                if let open = kept.session { s = open } else {
                    s = try open()
                    kept.session = s
                }
                return .success(try body(s))
            } catch let e as PrinterError {
                kept.session = nil
                return .failure(e)
            } catch {
                kept.session = nil
                return .failure(.io(description, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    public var description: String {
        "USB printer " + hex(vendorID) + ":" + hex(productID) + (serial.map { " (serial \($0))" } ?? "")
    }

    private func hex(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    /// An open, claimed printer interface.
    final class Session {
        let context: OpaquePointer
        let handle: OpaquePointer
        let interface: Int32
        let outEndpoint: UInt8
        let inEndpoint: UInt8?
        init(context: OpaquePointer, handle: OpaquePointer, interface: Int32, outEndpoint: UInt8, inEndpoint: UInt8?) {
            self.context = context
            self.handle = handle
            self.interface = interface
            self.outEndpoint = outEndpoint
            self.inEndpoint = inEndpoint
        }
        deinit {
            libusb_release_interface(handle, interface)
            libusb_close(handle)
            libusb_exit(context)
        }
    }

    func open() throws(PrinterError) -> Session {
        var ctx: OpaquePointer?
        guard libusb_init(&ctx) == 0, let ctx else { throw .io(description, reason: "libusb cannot start") }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(ctx, &list)
        defer { if let list { libusb_free_device_list(list, 1) } }
        var handle: OpaquePointer?
        var device: OpaquePointer?
        var lastOpenError: Int32 = 0
        for i in 0..<max(0, count) {
            guard let dev = list?[i] else { continue }
            var d = libusb_device_descriptor()
            guard libusb_get_device_descriptor(dev, &d) == 0, d.idVendor == vendorID, d.idProduct == productID else { continue }
            var h: OpaquePointer?
            let r = libusb_open(dev, &h)
            guard r == 0, let h else { lastOpenError = r; continue }
            if let serial {
                var buf = [UInt8](repeating: 0, count: 256)
                let n = libusb_get_string_descriptor_ascii(h, d.iSerialNumber, &buf, Int32(buf.count))
                if n < 0 || String(decoding: buf.prefix(Int(n)), as: UTF8.self) != serial {
                    libusb_close(h)
                    continue
                }
            }
            handle = h
            device = dev
            break
        }
        guard let handle, let device else {
            libusb_exit(ctx)
            if lastOpenError == LIBUSB_ERROR_ACCESS.rawValue {
                throw .permissionDenied(description, hint: "install the udev rule Drivers/udev/60-till.rules, then unplug and replug the printer")
            }
            throw .notFound(description, hint: "is it plugged in and switched on? (`lsusb` lists what is connected; check [printer] connection in the configuration)")
        }
        // Find the printer-class interface and its bulk endpoints.
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        guard libusb_get_active_config_descriptor(device, &config) == 0, let config else {
            libusb_close(handle); libusb_exit(ctx)
            throw .io(description, reason: "cannot read its USB configuration")
        }
        defer { libusb_free_config_descriptor(config) }
        var found: (Int32, UInt8, UInt8?)?
        for i in 0..<Int(config.pointee.bNumInterfaces) {
            let interface = config.pointee.interface[i]
            guard interface.num_altsetting > 0 else { continue }
            let alt = interface.altsetting[0]
            guard alt.bInterfaceClass == 7 else { continue }
            var out: UInt8?, inp: UInt8?
            for e in 0..<Int(alt.bNumEndpoints) {
                let ep = alt.endpoint[e]
                guard ep.bmAttributes & 0x03 == 2 else { continue } // bulk
                if ep.bEndpointAddress & 0x80 == 0 { out = out ?? ep.bEndpointAddress } else { inp = inp ?? ep.bEndpointAddress }
            }
            if let out { found = (Int32(alt.bInterfaceNumber), out, inp); break }
        }
        guard let (iface, outEP, inEP) = found else {
            libusb_close(handle); libusb_exit(ctx)
            throw .io(description, reason: "it has no printer interface with a bulk OUT endpoint: is it really a printer?")
        }
        if libusb_kernel_driver_active(handle, iface) == 1 {
            let r = libusb_detach_kernel_driver(handle, iface)
            if r != 0 {
                libusb_close(handle); libusb_exit(ctx)
                throw .busy(description, hint: "the kernel's usblp driver holds it and could not be detached (\(Self.name(r))); blacklist usblp or use [printer] device = \"/dev/usb/lp0\"")
            }
        }
        let claim = libusb_claim_interface(handle, iface)
        if claim != 0 {
            libusb_close(handle); libusb_exit(ctx)
            if claim == LIBUSB_ERROR_BUSY.rawValue {
                throw .busy(description, hint: "another program has claimed it: a running till keeps its printer open (use its own keys, or stop it first), or CUPS prints to it as well")
            }
            if claim == LIBUSB_ERROR_ACCESS.rawValue {
                throw .permissionDenied(description, hint: "install the udev rule Drivers/udev/60-till.rules, then unplug and replug the printer")
            }
            throw .io(description, reason: "cannot claim its interface (\(Self.name(claim)))")
        }
        return Session(context: ctx, handle: handle, interface: iface, outEndpoint: outEP, inEndpoint: inEP)
    }

    public func send(_ bytes: [UInt8]) throws(PrinterError) {
        try print(bytes, checkStatus: false)
    }

    public func print(_ bytes: [UInt8], checkStatus: Bool) throws(PrinterError) {
        try withSession { (s) throws(PrinterError) in
            // One question before a job (the offline cause: cover, paper end, error), not three:
            // the idle poll asks the whole status; a receipt should start at once.
            if checkStatus, let status = try readiness(s), !status.ready { throw .notReady(description, status) }
            try write(s, bytes)
        }
    }

    /// Whether the printer can print now, from DLE EOT 2 alone (nil: it does not answer).
    private func readiness(_ s: Session) throws(PrinterError) -> PrinterStatus? {
        guard let answer = try ask(s, PrinterStatus.requests[1]) else { return nil }
        return PrinterStatus.parse(printer: 0x12, offlineCause: answer, paper: 0x12)
    }

    private func write(_ s: Session, _ bytes: [UInt8]) throws(PrinterError) {
        var offset = 0
        var data = bytes
        while offset < data.count {
            let chunk = min(4096, data.count - offset)
            var transferred: Int32 = 0
            let r = data.withUnsafeMutableBufferPointer {
                libusb_bulk_transfer(s.handle, s.outEndpoint, $0.baseAddress! + offset, Int32(chunk), &transferred, UInt32(timeoutMilliseconds))
            }
            offset += Int(transferred)
            if r == LIBUSB_ERROR_TIMEOUT.rawValue {
                throw .timedOut(description, hint: "the printer is not taking data: is it out of paper, is its cover open?")
            }
            if r == LIBUSB_ERROR_NO_DEVICE.rawValue { throw .disconnected(description) }
            if r != 0 { throw .io(description, reason: Self.name(r)) }
        }
    }

    public func status() throws(PrinterError) -> PrinterStatus? {
        try withSession { (s) throws(PrinterError) in try status(s) }
    }

    /// One status request and its answer byte (nil: no answer, or no IN endpoint).
    private func ask(_ s: Session, _ request: [UInt8]) throws(PrinterError) -> UInt8? {
        guard let inEP = s.inEndpoint else { return nil }
        try write(s, request)
        var buf = [UInt8](repeating: 0, count: 64)
        var n: Int32 = 0
        let r = libusb_bulk_transfer(s.handle, inEP, &buf, Int32(buf.count), &n, UInt32(min(timeoutMilliseconds, 1_000)))
        if r == LIBUSB_ERROR_TIMEOUT.rawValue || n == 0 { return nil }
        if r == LIBUSB_ERROR_NO_DEVICE.rawValue { throw .disconnected(description) }
        if r != 0 { throw .io(description, reason: Self.name(r)) }
        return buf[Int(n) - 1]
    }

    private func status(_ s: Session) throws(PrinterError) -> PrinterStatus? {
        var answers: [UInt8] = []
        for request in PrinterStatus.requests {
            guard let answer = try ask(s, request) else { return nil }
            answers.append(answer)
        }
        return PrinterStatus.parse(printer: answers[0], offlineCause: answers[1], paper: answers[2])
    }

    static func name(_ code: Int32) -> String {
        libusb_error_name(code).map { String(cString: $0) } ?? "error \(code)"
    }
}

extension USBPrinterTransport {
    /// USB devices with a printer interface, as "04b8:0202 EPSON TM-T88V", for `till doctor`.
    public static func connectedPrinters() -> [String] {
        var ctx: OpaquePointer?
        guard libusb_init(&ctx) == 0, let ctx else { return [] }
        defer { libusb_exit(ctx) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(ctx, &list)
        defer { if let list { libusb_free_device_list(list, 1) } }
        var found: [String] = []
        for i in 0..<max(0, count) {
            guard let dev = list?[i] else { continue }
            var d = libusb_device_descriptor()
            guard libusb_get_device_descriptor(dev, &d) == 0 else { continue }
            var config: UnsafeMutablePointer<libusb_config_descriptor>?
            guard libusb_get_active_config_descriptor(dev, &config) == 0, let config else { continue }
            defer { libusb_free_config_descriptor(config) }
            let isPrinter = (0..<Int(config.pointee.bNumInterfaces)).contains { n in
                let itf = config.pointee.interface[n]
                return itf.num_altsetting > 0 && itf.altsetting[0].bInterfaceClass == 7
            }
            guard isPrinter else { continue }
            var name = ""
            var h: OpaquePointer?
            if libusb_open(dev, &h) == 0, let h {
                var buf = [UInt8](repeating: 0, count: 128)
                for index in [d.iManufacturer, d.iProduct] where index != 0 {
                    let n = libusb_get_string_descriptor_ascii(h, index, &buf, Int32(buf.count))
                    if n > 0 { name += " " + String(decoding: buf.prefix(Int(n)), as: UTF8.self) }
                }
                libusb_close(h)
            }
            let t = USBPrinterTransport(vendorID: d.idVendor, productID: d.idProduct)
            found.append(String(t.description.dropFirst("USB printer ".count)) + name)
        }
        return found
    }
}
