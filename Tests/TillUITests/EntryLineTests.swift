import Testing
import TillUI

@Suite("The entry line every screen keys into")
struct EntryLineTests {
    func keyed(_ text: String, _ characters: EntryLine.Characters, limit: Int = 24) -> (EntryLine, [EntryLine.Edit]) {
        var line = EntryLine()
        let edits = text.map { line.edit(.char($0), characters, limit: limit) }
        return (line, edits)
    }

    @Test("each screen's line takes its own characters and leaves the rest to the screen", arguments: [
        (EntryLine.Characters.digits, "12a.3", "123"),
        (.keyed, "1.5%x*", "1.5%"),
        (.receipt, "0001-01/7a", "0001-017a"),
        (.reference, "AB-12/7 ", "AB-12/7"),
        (.text, "window cleaner", "window cleaner"),
    ])
    func takesItsCharacters(characters: EntryLine.Characters, typed: String, kept: String) {
        let (line, edits) = keyed(typed, characters)
        #expect(line.text == kept)
        #expect(edits.filter { $0 == .notAnEdit }.count == typed.count - kept.count)
    }

    @Test func aCharacterPastTheLimitChangesNothingAndSaysFull() {
        let (line, edits) = keyed("123456789", .digits, limit: 8)
        #expect(line.text == "12345678")
        #expect(edits.last == .full)
    }

    @Test func backspaceTakesTheLastCharacterAndIsHarmlessOnAnEmptyLine() {
        var line = EntryLine("12")
        #expect(line.edit(.backspace, .digits, limit: 8) == .edited)
        #expect(line.text == "1")
        _ = line.edit(.backspace, .digits, limit: 8)
        #expect(line.edit(.backspace, .digits, limit: 8) == .edited)
        #expect(line.isEmpty)
    }

    @Test func enterAndFunctionKeysAreTheScreens() {
        var line = EntryLine("5")
        #expect(line.edit(.enter, .text, limit: 8) == .notAnEdit)
        #expect(line.edit(.function(5), .keyed, limit: 8) == .notAnEdit)
        #expect(line.take() == "5")
        #expect(line.isEmpty)
    }
}
