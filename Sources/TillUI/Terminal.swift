import CNCurses
import CNCursesShim
import Foundation

/// Text attributes the till uses.
struct TextStyle: OptionSet {
    let rawValue: Int
    static let bold = TextStyle(rawValue: 1)
    static let reverse = TextStyle(rawValue: 2)
    static let dim = TextStyle(rawValue: 4)
    static let underline = TextStyle(rawValue: 8)
    static let error = TextStyle(rawValue: 16)
    static let ok = TextStyle(rawValue: 32)
    static let accent = TextStyle(rawValue: 64)
}

/// What reading the keyboard produced.
enum TerminalInput: Equatable {
    case key(Key)
    case resize
    case timeout
}

/// The terminal through ncursesw. Works on `TERM=linux` (the console of a real till: 8 colours,
/// line drawing through terminfo's acsc) and in xterm-like terminals.
final class Terminal {
    private(set) var rows: Int = 24
    private(set) var cols: Int = 80
    private var colours = false

    func start() {
        setlocale(LC_ALL, "")
        initscr()
        raw()            // Ctrl-C, Ctrl-Z reach the till as keys: a till is not stopped from its keyboard.
        noecho()
        nonl()
        keypad(ncs_stdscr(), true)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
            init_pair(1, Int16(COLOR_WHITE), Int16(COLOR_RED))
            init_pair(2, Int16(COLOR_GREEN), -1)
            init_pair(3, Int16(COLOR_CYAN), -1)
            colours = true
        }
        ncs_install_signal_flag()
        updateSize()
    }

    func stop() {
        endwin()
    }

    func updateSize() {
        var y: Int32 = 0, x: Int32 = 0
        ncs_getmaxyx(ncs_stdscr(), &y, &x)
        rows = Int(y)
        cols = Int(x)
    }

    func clear() { werase(ncs_stdscr()) }

    /// Writes `text` at row `y`, column `x`, cut to `width` characters (default: to the edge).
    func put(_ y: Int, _ x: Int, _ text: String, _ style: TextStyle = [], width: Int? = nil) {
        guard y >= 0, y < rows, x >= 0, x < cols else { return }
        let room = min(width ?? (cols - x), cols - x)
        guard room > 0 else { return }
        var s = text.count > room ? String(text.prefix(room)) : text
        // The bottom-right cell cannot be written without scrolling on some terminals.
        if y == rows - 1 && x + s.count >= cols { s = String(s.prefix(max(0, cols - x - 1))) }
        let attrs = attributes(style)
        if attrs != 0 { attron(attrs) }
        _ = ncs_mvaddstr(Int32(y), Int32(x), s)
        if attrs != 0 { attroff(attrs) }
    }

    /// Fills a row with spaces in a style (for bars).
    func fillRow(_ y: Int, _ style: TextStyle) {
        put(y, 0, String(repeating: " ", count: cols), style)
    }

    func hline(_ y: Int, _ x: Int, _ n: Int) { _ = ncs_hline(Int32(y), Int32(x), Int32(n)) }

    func box(_ y: Int, _ x: Int, _ h: Int, _ w: Int) { _ = ncs_box(Int32(y), Int32(x), Int32(h), Int32(w)) }

    func moveCursor(_ y: Int, _ x: Int) {
        curs_set(1)
        wmove(ncs_stdscr(), Int32(y), Int32(min(x, cols - 1)))
    }

    func hideCursor() { curs_set(0) }

    func refresh() { wrefresh(ncs_stdscr()) }

    func beep() { CNCurses.beep() }

    var signalReceived: Bool { ncs_signal_received() != 0 }

    /// Waits up to `timeoutMilliseconds` (negative: forever) for a key.
    func read(timeoutMilliseconds: Int) -> TerminalInput {
        wtimeout(ncs_stdscr(), Int32(timeoutMilliseconds))
        var wch: wint_t = 0
        let r = wget_wch(ncs_stdscr(), &wch)
        if r == ERR { return .timeout }
        if r == KEY_CODE_YES {
            let code = Int32(bitPattern: wch)
            switch code {
            case KEY_RESIZE: updateSize(); return .resize
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            default:
                let f0 = ncs_key_f(0)
                if code > f0 && code <= f0 + 24 { return .key(.function(Int(code - f0))) }
                return .timeout // a key the till does not use
            }
        }
        switch wch {
        case 10, 13: return .key(.enter)
        case 27: return escapeSequence()
        case 8, 127: return .key(.backspace)
        case 9: return .key(.tab)
        case 1...26: return .key(.ctrl(Character(UnicodeScalar(UInt8(wch) + 96))))
        default:
            guard let scalar = UnicodeScalar(wch) else { return .timeout }
            return .key(.char(Character(scalar)))
        }
    }

    /// After an ESC that ncurses did not match against terminfo: the rest of the sequence, read
    /// whole (the characters of one key arrive together; 50 ms is far longer than they take, and
    /// shorter than any cashier's next key). A known sequence is its key; anything else is
    /// swallowed, never typed into the entry line. ESC alone is the Escape key.
    private func escapeSequence() -> TerminalInput {
        var after: [Character] = []
        while true {
            switch EscapeSequence.parse(after) {
            case .key(let key):
                return key.map { .key($0) } ?? .timeout
            case .escapeThen:
                // Escape, then a key of its own: read that key again next time.
                for c in after.reversed() {
                    if let scalar = c.unicodeScalars.first { _ = unget_wch(wchar_t(scalar.value)) }
                }
                return .key(.escape)
            case .incomplete:
                wtimeout(ncs_stdscr(), 50)
                var wch: wint_t = 0
                let r = wget_wch(ncs_stdscr(), &wch)
                if r == ERR { return after.isEmpty ? .key(.escape) : .timeout }
                if r == KEY_CODE_YES {
                    // A key ncurses decoded: the ESC before it was the Escape key.
                    _ = ungetch(Int32(bitPattern: wch))
                    return after.isEmpty ? .key(.escape) : .timeout
                }
                guard let scalar = UnicodeScalar(wch), after.count < 32 else { return .timeout }
                after.append(Character(scalar))
            }
        }
    }

    private func attributes(_ style: TextStyle) -> Int32 {
        var a: UInt32 = 0
        if style.contains(.bold) { a |= ncs_attr_bold() }
        if style.contains(.reverse) { a |= ncs_attr_reverse() }
        if style.contains(.dim) { a |= ncs_attr_dim() }
        if style.contains(.underline) { a |= ncs_attr_underline() }
        if style.contains(.error) { a |= colours ? UInt32(ncs_color_pair(1)) | ncs_attr_bold() : ncs_attr_reverse() }
        if style.contains(.ok) && colours { a |= UInt32(ncs_color_pair(2)) }
        if style.contains(.accent) && colours { a |= UInt32(ncs_color_pair(3)) }
        return Int32(bitPattern: a)
    }
}
