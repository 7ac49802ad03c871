import Foundation
@testable import HeadOffice
import Testing
import TillTestSupport

/// E-mail through libcurl's SMTP client to a real SMTP server on loopback (aiosmtpd).
@Suite("E-mail to an SMTP relay", .serialized)
struct MailerTests {
    @Test func aMessageReachesTheRelayWholeAndAFailureSaysWhy() throws {
        let dir = TemporaryDirectory("mail")
        let smtp = try SMTPSink(dir: dir)
        let mailer = Mailer(MailSettings(relay: smtp.relay, from: "Demo Rewards <rewards@example.com>"))
        try mailer.send(MailMessage(to: "anna@example.com", subject: "Your sign-in code", text: "Your code is 123456.\nZoë's shop — €5 off."))
        let m = try smtp.waitForMessage(to: "anna@example.com")
        #expect(m.contains("From: Demo Rewards <rewards@example.com>") && m.contains("Subject: Your sign-in code"))
        #expect(m.contains("Your code is 123456.") && m.contains("Zoë's shop — €5 off."), "\(m)")
        #expect(m.contains("Content-Type: text/plain; charset=utf-8"))
        // A subject beyond ASCII goes as an encoded word.
        try mailer.send(MailMessage(to: "zoe@example.org", subject: "Ваш код", text: "1"))
        #expect(try smtp.waitForMessage(to: "zoe@example.org").contains("Subject: =?UTF-8?B?"))
        // Refused before anything is sent: a header injection; then a relay that is not there.
        #expect(throws: MailFailure.self) { try mailer.send(MailMessage(to: "a@b.c\r\nBcc: x@y.z", subject: "x", text: "x")) }
        smtp.stop()
        do {
            try mailer.send(MailMessage(to: "anna@example.com", subject: "x", text: "x"), timeoutMilliseconds: 3_000)
            Issue.record("an e-mail went to a relay that is not running")
        } catch { #expect(error.description.contains("did not take the e-mail to anna@example.com"), "\(error)") }
    }

    /// `[mail] journal`: an empty one is refused before head office starts, with what to write;
    /// one head office cannot open lets it serve, campaign e-mails waiting, and says why.
    @Test func aMailJournalThatCannotBeWrittenIsSaidAndTheEmailsWait() throws {
        let dir = TemporaryDirectory("mail-journal-config")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let relay = "relay = \"smtp://127.0.0.1:25\"\nfrom = \"rewards@example.com\"\npublic_url = \"https://rewards.example.com\"\n"
        let empty = try runProcess(ho.binary, ["serve", "--database", ho.database, "--port", "0", "--config", dir.write("empty.toml", "[mail]\n" + relay + "journal = \"\"\n")])
        #expect(empty.status != 0 && empty.stderr.contains("[mail] journal must name a file head office may write"), "\(empty.stderr)")
        ho.serveArguments = ["--config", dir.write("nowhere.toml", "[mail]\n" + relay + "journal = \"/proc/no-such-dir/mail-journal\"\n")]
        try ho.start()
        let deadline = Date().addingTimeInterval(10)
        var log = ""
        while Date() < deadline && !log.contains("campaign e-mails wait") {
            usleep(100_000)
            log = (try? String(contentsOfFile: dir.file("serve.err"), encoding: .utf8)) ?? ""
        }
        ho.kill()
        #expect(log.contains("campaign e-mails wait: Cannot open the campaign mail journal /proc/no-such-dir/mail-journal"), "\(log)")
        #expect(log.contains("set [mail] journal in headoffice.toml to a file head office may write"))
    }

    /// STARTTLS: with `require_tls` the e-mail goes only over an encrypted connection to a relay
    /// whose certificate the configured CA signed; a relay without TLS, or with a certificate
    /// nobody vouches for, is refused and nothing is sent.
    @Test func requireTLSSendsOnlyOverAVerifiedEncryptedConnection() throws {
        let dir = TemporaryDirectory("mail-tls")
        let certs = try TestCertificates(in: dir, name: "relay")
        let secure = try SMTPSink(dir: dir, tls: (certs.certificate, certs.key))
        try Mailer(MailSettings(relay: secure.relay, from: "rewards@example.com", requireTLS: true, ca: certs.ca))
            .send(MailMessage(to: "anna@example.com", subject: "Your sign-in code", text: "Your code is 654321."))
        #expect(try secure.waitForMessage(to: "anna@example.com").contains("Your code is 654321."))
        // The relay's certificate is not one the system's authorities signed.
        #expect(throws: MailFailure.self) {
            try Mailer(MailSettings(relay: secure.relay, from: "rewards@example.com", requireTLS: true))
                .send(MailMessage(to: "boris@example.com", subject: "x", text: "x"), timeoutMilliseconds: 5_000)
        }
        // A relay that offers no TLS.
        let plainDir = TemporaryDirectory("mail-plain")
        let plain = try SMTPSink(dir: plainDir)
        #expect(throws: MailFailure.self) {
            try Mailer(MailSettings(relay: plain.relay, from: "rewards@example.com", requireTLS: true))
                .send(MailMessage(to: "clara@example.com", subject: "x", text: "x"), timeoutMilliseconds: 5_000)
        }
        #expect(plain.messages().isEmpty && !secure.messages().contains { $0.contains("boris@example.com") })
    }
}
