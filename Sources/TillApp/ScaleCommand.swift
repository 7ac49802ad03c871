import ArgumentParser
import Foundation
import Scales

/// `till scale test`: asks the configured scale for the weight, as the till does at a scan.
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "The weighing scale in [scale]: test it.",
        subcommands: [Test.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the configured scale for the weight on it and show the answer (exit 1 if it gives none).",
            discussion: "Put something on the scale first: an empty scale answers that it shows nothing.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let config = try global.loadConfig()
            guard let s = config.scale else {
                throw CLIError("No scale is configured: add [scale] device = \"/dev/ttyUSB0\" to \(config.source == "embedded defaults" ? "till.toml" : config.source)")
            }
            let scale = SerialScale(device: s.device, baud: s.baud, frame: s.frame)
            print("Asking the scale on \(s.device) (\(s.baud) baud, \(s.frame.rawValue), Toledo 8213)…")
            switch scale.steadyWeight() {
            case .grams(let g): print("Weight: \(g / 1000).\(String(1000 + g % 1000).dropFirst()) kg. The scale works.")
            case .motion: throw CLIError("The scale did not settle within 2 s: is something moving on it?")
            case .zero: throw CLIError("The scale answers but shows nothing: put something on it and test again")
            case .underZero: throw CLIError("The scale shows less than zero: empty it and zero it")
            case .overCapacity: throw CLIError("The scale is over its capacity")
            case .noAnswer(let why): throw CLIError("Scale: \(why)")
            }
        }
    }
}
