// swift-tools-version: 6.1
import PackageDescription

/// Upcoming features that keep imports and existentials honest (as Hummingbird does).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "till",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "till", targets: ["Till"]),
        .executable(name: "till-bench", targets: ["TillBench"]),
        .executable(name: "headoffice", targets: ["HeadOfficeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // The till's services and head office.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Head office only (the till never builds these).
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        // Domain core: pure Swift, no I/O, no Foundation.
        .target(name: "TillCore", swiftSettings: strictSettings),
        // Wire types shared by till and head office. No dependencies.
        .target(name: "TillProtocol", swiftSettings: strictSettings),
        // Receipt layouts (plain text today; ESC/POS templates build on it).
        .target(
            name: "Receipts",
            dependencies: ["TillCore", "ESCPOS"],
            path: "Receipts",
            exclude: ["README.md"],
            resources: [
                .embedInCode("templates/sale.receipt"), .embedInCode("templates/header.receipt"),
                .embedInCode("templates/footer.receipt"), .embedInCode("templates/testpage.receipt"),
                .embedInCode("templates/registration.receipt"), .embedInCode("templates/logo.png"),
                .embedInCode("templates/refund.receipt"), .embedInCode("templates/report.receipt"),
            ],
            swiftSettings: strictSettings
        ),
        // Documents and files shared by the till and head office: sale documents to and from
        // sales, CSV reading, the catalog and card file formats.
        .target(
            name: "TillDocuments",
            dependencies: [
                "TillCore", "TillProtocol",
                .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The till's SQLite database.
        .target(
            name: "TillStore",
            dependencies: [
                "TillCore", "TillProtocol", "TillDocuments",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for binding millions of card rows without boxing each value.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The demo store's data (catalog, staff, members, programme) and generated sales, for
        // `till demo`, `headoffice demo`, the benchmarks and the tests.
        .target(
            name: "TillDemo",
            dependencies: ["TillCore", "TillProtocol", "TillDocuments"],
            resources: [.embedInCode("Resources/demo-programme.json")],
            swiftSettings: strictSettings
        ),
        // Throwaway servers for the benchmarks and tests: a private PostgreSQL cluster on a free
        // loopback port, removed at exit; spawning and reaping helper processes.
        .target(name: "PrivateServers", swiftSettings: strictSettings),
        // Terminal UI: controller (state machine), key decoding, ncurses drawing.
        .target(
            name: "TillUI",
            dependencies: ["TillCore", "TillProtocol", "Receipts", "CNCurses", "CNCursesShim"],
            swiftSettings: strictSettings
        ),
        // Composition: configuration, CLI subcommands.
        .target(
            name: "TillApp",
            dependencies: [
                "TillCore", "TillProtocol", "TillDocuments", "TillStore", "TillDemo", "TillUI", "TillSync", "Receipts", "ESCPOS", "Printers",
                "CardReaders", "Scales",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                // The till's background parts run as services of one group (graceful shutdown).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "Till",
            dependencies: ["TillApp", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        // Store-and-forward from the till: the outbox forwarder and head office's card lookups (libcurl).
        .target(
            name: "TillSync",
            dependencies: ["TillCore", "TillProtocol", "TillDocuments", "TillStore", "CCurl", "CCurlShim"],
            swiftSettings: strictSettings
        ),
        // Head office: ingest, loyalty ledger, till credentials, HTTP API; SQLite or PostgreSQL.
        .target(
            name: "HeadOffice",
            dependencies: [
                "TillCore", "TillProtocol", "TillDocuments", "TillDemo", "CLibPQ", "Receipts", "ESCPOS", "CCurl", "CCurlShim",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            ],
            // The back office's pages: one layout, partials for fields, the scope picker and the
            // publications table, one template a page (see BackOffice/Templates.swift).
            resources: [
                .embedInCode("BackOffice/templates/layout.mustache"), .embedInCode("BackOffice/templates/backoffice.css"),
                .embedInCode("BackOffice/templates/field.mustache"), .embedInCode("BackOffice/templates/scope-picker.mustache"),
                .embedInCode("BackOffice/templates/publications.mustache"), .embedInCode("BackOffice/templates/message.mustache"),
                .embedInCode("BackOffice/templates/login.mustache"), .embedInCode("BackOffice/templates/overview.mustache"),
                .embedInCode("BackOffice/templates/programme.mustache"), .embedInCode("BackOffice/templates/programme-preview.mustache"),
                .embedInCode("BackOffice/templates/programme-diff.mustache"), .embedInCode("BackOffice/templates/catalog.mustache"),
                .embedInCode("BackOffice/templates/catalog-item.mustache"), .embedInCode("BackOffice/templates/settings.mustache"),
                .embedInCode("BackOffice/templates/rollout.mustache"), .embedInCode("BackOffice/templates/receipts.mustache"),
                .embedInCode("BackOffice/templates/customers.mustache"), .embedInCode("BackOffice/templates/customer.mustache"),
                .embedInCode("BackOffice/templates/reason.mustache"), .embedInCode("BackOffice/templates/decide.mustache"),
                .embedInCode("BackOffice/templates/approvals.mustache"), .embedInCode("BackOffice/templates/member-layout.mustache"),
                .embedInCode("BackOffice/templates/member-style.mustache"), .embedInCode("BackOffice/templates/member-signin.mustache"),
                .embedInCode("BackOffice/templates/member-code.mustache"), .embedInCode("BackOffice/templates/member-home.mustache"),
                .embedInCode("BackOffice/templates/partners.mustache"), .embedInCode("BackOffice/templates/settlement.mustache"),
                .embedInCode("BackOffice/templates/reports.mustache"), .embedInCode("BackOffice/templates/cashback.mustache"),
                .embedInCode("BackOffice/templates/segments.mustache"), .embedInCode("BackOffice/templates/segment.mustache"),
                .embedInCode("BackOffice/templates/segment-state.mustache"), .embedInCode("BackOffice/templates/campaigns.mustache"),
                .embedInCode("BackOffice/templates/campaign.mustache"), .embedInCode("BackOffice/templates/programme-months.mustache"), .embedInCode("BackOffice/templates/events.mustache"),
                .embedInCode("BackOffice/templates/feedback.mustache"), .embedInCode("BackOffice/templates/suggestions.mustache"), .embedInCode("BackOffice/templates/fraud.mustache"), .embedInCode("BackOffice/templates/fraud-alerts.mustache"), .embedInCode("BackOffice/templates/fraud-case.mustache"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "HeadOfficeServer",
            dependencies: ["HeadOffice", "TillCore", "TillDocuments", "TillProtocol", "TillDemo",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "TOMLKit", package: "TOMLKit"),
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strictSettings,
            // jemalloc in place of glibc's malloc: a sale's strings and SQLite's records are
            // allocated on one thread and freed on another, and ingest cost 9% less CPU a sale
            // with jemalloc than with glibc's malloc (README: Benchmarks).
            linkerSettings: [.linkedLibrary("jemalloc")]
        ),
        .executableTarget(
            name: "TillBench",
            dependencies: [
                "TillApp", "TillCore", "TillStore", "TillDemo", "TillUI", "Receipts", "ESCPOS", "HeadOffice", "TillSync", "TillProtocol",
                "TillDocuments", "PrivateServers", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: [.linkedLibrary("jemalloc")]   // head office in this process, allocating as `headoffice` does
        ),

        // Drivers: hardware and system libraries; know nothing of sales.
        .systemLibrary(
            name: "CNCurses",
            path: "Drivers/CNCurses",
            // No pkgConfig: ncursesw.pc adds -D_XOPEN_SOURCE=600, which SwiftPM refuses;
            // the module map links ncursesw and the shim header sets the wide-char defines.
            providers: [.apt(["libncurses-dev"])]
        ),
        .systemLibrary(name: "CZlib", path: "Drivers/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // ESC/POS: encoder, printer profiles (data), images, QR, barcodes, fonts, virtual printer.
        .target(
            name: "ESCPOS",
            dependencies: ["CZlib"],
            path: "Drivers/ESCPOS",
            exclude: ["fonts/LICENSE-Terminus.txt"],
            resources: [
                .embedInCode("profiles/generic-80.json"), .embedInCode("profiles/generic-58.json"),
                .embedInCode("profiles/epson-tm-t88.json"), .embedInCode("profiles/epson-tm-t20.json"),
                .embedInCode("profiles/star-tsp100-raster.json"),
                .embedInCode("fonts/Terminus24x12.psf"), .embedInCode("fonts/TerminusBold24x12.psf"),
            ],
            swiftSettings: strictSettings
        ),
        .systemLibrary(name: "CCups", path: "Drivers/CCups", providers: [.apt(["libcups2-dev"])]),
        .systemLibrary(name: "CLibUSB", path: "Drivers/CLibUSB", providers: [.apt(["libusb-1.0-0-dev"])]),
        // No pkgConfig for these: Debian's libpq-dev puts its header in /usr/include/postgresql.
        .systemLibrary(name: "CLibPQ", path: "Drivers/CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", path: "Drivers/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // curl_easy_setopt is variadic: typed wrappers for Swift.
        .target(name: "CCurlShim", dependencies: ["CCurl"], path: "Drivers/CCurlShim", linkerSettings: [.linkedLibrary("curl")]),
        // Printer transports: USB (libusb), CUPS (libcups), device file, TCP 9100.
        .target(
            name: "Printers",
            dependencies: ["CCups", "CLibUSB"],
            path: "Drivers/Printers",
            swiftSettings: strictSettings
        ),
        // Card readers the till reads directly: evdev (grabbed) and USB HID through libusb.
        .target(
            name: "CardReaders",
            dependencies: ["CLibUSB"],
            path: "Drivers/CardReaders",
            swiftSettings: strictSettings
        ),
        // Weighing scales on a serial line (Toledo 8213 protocol).
        .target(name: "Scales", path: "Drivers/Scales", swiftSettings: strictSettings),
        .target(
            name: "CNCursesShim", dependencies: ["CNCurses"], path: "Drivers/CNCursesShim",
            linkerSettings: [.linkedLibrary("ncursesw")]
        ),

        // Tests
        .target(
            name: "TillTestSupport",
            dependencies: ["TillCore", "TillStore", "TillDemo", "TillApp", "PrivateServers"],
            path: "Tests/TillTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "TillCoreTests", dependencies: ["TillCore"], swiftSettings: strictSettings),
        // README's "Where things are" against this manifest, and every file's imports against its target.
        .testTarget(name: "LayoutTests", swiftSettings: strictSettings),
        .testTarget(
            name: "ReceiptsTests",
            dependencies: ["Receipts", "ESCPOS", "TillCore", "TillStore", "TillDemo", "TillTestSupport"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PrintersTests",
            dependencies: ["Printers", "TillTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ESCPOSTests",
            dependencies: ["ESCPOS", "TillTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TillStoreTests",
            dependencies: ["TillStore", "TillCore", "TillProtocol", "TillDocuments", "TillDemo", "TillTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TillUITests",
            dependencies: ["TillUI", "TillCore", "TillStore", "TillDemo", "TillProtocol", "TillTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TillAppTests",
            dependencies: ["TillApp", "TillCore", "TillStore", "TillProtocol", "TillUI", "TillSync", "Printers", "Scales", "TillTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HeadOfficeTests",
            dependencies: ["HeadOffice", "TillSync", "TillTestSupport", "TillCore", "TillProtocol", "TillDocuments", "TillStore", "TillDemo",
                           "PrivateServers", "ESCPOS", "Receipts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Schemathesis", "Browser", "Webhooks"],  // read by path at run time
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TillTestSupport", "TillProtocol", "TillStore", "TillCore", "TillDemo", "PrivateServers", "Receipts", "ESCPOS",
                           .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ]
)
