import Foundation
import Scales
import Testing
import TillTestSupport

/// The Toledo 8213 protocol, read from bytes, and a scale on a serial line: a fake one on a
/// pseudo-terminal pair, opened and set up as a real port is.
@Suite("Weighing scale (Toledo 8213 on a serial line)")
struct ScaleTests {
    func parse(_ bytes: [UInt8]) -> [Toledo8213.Reply] {
        var p = Toledo8213.Parser()
        return bytes.compactMap { p.feed($0) }
    }

    @Test func weightsAndStatusesAreRead() {
        #expect(parse(FakeScale.weight("00.750")) == [.grams(750)])
        #expect(parse(FakeScale.weight("1.25")) == [.grams(1_250)])
        #expect(parse(FakeScale.weight("  0.5")) == [.grams(500)])
        #expect(parse(FakeScale.weight("012")) == [.grams(12_000)])
        #expect(parse([0x41, 0x42] + FakeScale.weight("0.100")) == [.grams(100)])   // noise before STX is dropped
        #expect(parse(FakeScale.weight("0.100").map { $0 | 0x80 }) == [.grams(100)])   // a parity bit seen on 8N1
        #expect(parse(FakeScale.status(1)) == [.status(.motion)])
        #expect(parse(FakeScale.status(2)) == [.status(.overCapacity)])
        #expect(parse(FakeScale.status(4 | 8)) == [.status([.underZero, .outsideZeroRange])])
        #expect(parse(FakeScale.status(16)) == [.status(.centreOfZero)])
    }

    @Test func anythingElseIsUnreadableNeverAWeight() {
        for bad in ["0.7501", "1.2.3", "abc", "", "-0.5", "1234567890"] {
            guard case .unreadable = parse(FakeScale.weight(bad)).first else { Issue.record("'\(bad)' was taken"); continue }
        }
        #expect(parse([0x02] + Array(repeating: 0x31, count: 40)).first == .unreadable("a record longer than 32 bytes"))
    }

    @Test func aSteadyWeightIsReadAfterTheScaleStopsMoving() throws {
        let fake = try FakeScale()
        defer { fake.stop() }
        let scale = SerialScale(device: fake.devicePath)
        fake.show(FakeScale.weight("00.750"))
        #expect(scale.steadyWeight() == .grams(750))
        fake.queue([FakeScale.status(1), FakeScale.status(1)])
        let before = fake.questions
        #expect(scale.steadyWeight() == .grams(750))
        #expect(fake.questions - before == 3)
        fake.show(FakeScale.weight("00.000"))
        #expect(scale.weigh() == .zero)
        fake.show(FakeScale.status(16))
        #expect(scale.weigh() == .zero)
        fake.show(FakeScale.status(2))
        #expect(scale.weigh() == .overCapacity)
        fake.show(FakeScale.status(4))
        #expect(scale.weigh() == .underZero)
        // Always moving: given up after the time allowed, as moving.
        fake.show(FakeScale.status(1))
        #expect(scale.steadyWeight(steadyWithin: 300) == .motion)
        fake.show(FakeScale.weight("x"))
        guard case .noAnswer(let why) = scale.weigh() else { Issue.record("garbage taken"); return }
        #expect(why.contains("sent 'x', not a weight"))
    }

    @Test func aScaleThatDoesNotAnswerOrIsNotThereSaysSo() throws {
        let fake = try FakeScale()
        defer { fake.stop() }
        fake.show(FakeScale.silent)
        let scale = SerialScale(device: fake.devicePath)
        let started = Date()
        guard case .noAnswer(let why) = scale.weigh(answerWithin: 200) else { Issue.record("an answer from nothing"); return }
        #expect(why.hasPrefix("no answer from the scale on \(fake.devicePath) within 200 ms"))
        #expect(Date().timeIntervalSince(started) < 5)
        let missing = SerialScale(device: "/dev/ttyNOSUCHSCALE")
        guard case .noAnswer(let gone) = missing.weigh() else { Issue.record("a scale that is not there answered"); return }
        #expect(gone.hasPrefix("cannot open /dev/ttyNOSUCHSCALE: No such file or directory"), "\(gone)")
        let notSerial = SerialScale(device: "/dev/null")
        guard case .noAnswer(let null) = notSerial.weigh() else { Issue.record("/dev/null answered"); return }
        #expect(null == "/dev/null is not a serial port")
    }
}
