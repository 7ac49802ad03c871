import Crypto
import _CryptoExtras
import Foundation

/// Hashes staff PINs with PBKDF2-HMAC-SHA256 and a random salt. PINs are short, so the
/// hash is deliberately slow; the till never stores or logs a PIN.
///
/// Stored form: `pbkdf2-sha256$<rounds>$<salt base64>$<hash base64>`.
public enum PINHasher {
    public static let defaultRounds = 100_000

    public static func hash(_ pin: String, rounds: Int = defaultRounds) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let key = derive(pin, salt: salt, rounds: rounds)
        return "pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// True when `pin` matches the stored hash (constant-time comparison).
    public static func verify(_ pin: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let actual = derive(pin, salt: [UInt8](salt), rounds: rounds)
        guard actual.count == expected.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(actual, expected) { diff |= a ^ b }
        return diff == 0
    }

    /// True when `stored` has the form `hash` writes (so a hash from head office can be stored as is).
    public static func isWellFormed(_ stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        return parts.count == 4 && parts[0] == "pbkdf2-sha256" && (Int(parts[1]) ?? 0) >= 1_000
            && Data(base64Encoded: String(parts[2])) != nil && Data(base64Encoded: String(parts[3]))?.count == 32
    }

    private static func derive(_ pin: String, salt: [UInt8], rounds: Int) -> [UInt8] {
        // Only fails for invalid parameters, which are fixed here.
        let key = try! KDF.Insecure.PBKDF2.deriveKey(
            from: Array(pin.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}
