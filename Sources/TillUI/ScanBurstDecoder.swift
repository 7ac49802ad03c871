/// What the till reacts to: a key the cashier pressed, or a whole scan from a keyboard-wedge
/// scanner.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case scan(String)
}

/// Tells scanner bursts from typing.
///
/// A keyboard-wedge scanner types its 8–19 digits and Enter within a few milliseconds; a person
/// leaves tens of milliseconds or more between keys. Keys closer together than `gap` form a
/// *run*. A run that is exactly 8–19 digits followed by Enter is one `.scan`, handled apart from
/// whatever the cashier had half-typed, so a scan is never split, dropped, or glued to the
/// previous entry. A magnetic-stripe reader types its track data the same way: a run that starts
/// with a start sentinel (`%` track 1, `;` track 2) and ends with the end sentinel `?` — both
/// tracks, with or without the Enter readers send after them — is one `.scan` of the raw track
/// text, on any screen. Every other run is released as ordinary keys, in order, once `gap` has
/// passed with no further key (so typing sees at most `gap` of delay).
///
/// A value-type state machine fed timestamps (milliseconds on a monotonic clock): no clock inside.
public struct ScanBurstDecoder: Sendable {
    public var gap: Int64
    public var digitRange: ClosedRange<Int>

    private var run: [Key] = []
    private var lastKeyAt: Int64?

    public init(gapMilliseconds: Int64 = 30, digitRange: ClosedRange<Int> = 8...19) {
        self.gap = gapMilliseconds
        self.digitRange = digitRange
    }

    /// Feeds one key; returns whatever is now decided.
    public mutating func feed(_ key: Key, at time: Int64) -> [InputEvent] {
        var out: [InputEvent] = []
        if let last = lastKeyAt, time - last >= gap { out += release() }
        lastKeyAt = time
        if key == .enter, let digits = runDigits(), digitRange.contains(digits.count) {
            run.removeAll()
            out.append(.scan(digits))
            return out
        }
        if key == .enter, let track = runTrack() {
            run.removeAll()
            out.append(.scan(track))
            return out
        }
        run.append(key)
        return out
    }

    /// Releases a run whose keys are older than `gap` at `time`.
    public mutating func flush(at time: Int64) -> [InputEvent] {
        guard let last = lastKeyAt, time - last >= gap else { return [] }
        return release()
    }

    /// When `flush` will next have something to release, if anything is held.
    public var deadline: Int64? { run.isEmpty ? nil : lastKeyAt.map { $0 + gap } }

    private mutating func release() -> [InputEvent] {
        defer { run.removeAll() }
        if let track = runTrack() { return [.scan(track)] }
        return run.map(InputEvent.key)
    }

    /// The run as magnetic-stripe track text: a start sentinel, printable characters, `?` last.
    private func runTrack() -> String? {
        guard run.count >= 3, case .char(let first) = run[0], first == "%" || first == ";",
              case .char(let last) = run[run.count - 1], last == "?" else { return nil }
        var s = ""
        for k in run {
            guard case .char(let c) = k, c.isASCII, !c.isNewline else { return nil }
            s.append(c)
        }
        return s
    }

    private func runDigits() -> String? {
        var s = ""
        for k in run {
            guard case .char(let c) = k, c.isASCII, c.isNumber else { return nil }
            s.append(c)
        }
        return s
    }
}
