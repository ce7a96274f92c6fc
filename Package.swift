// swift-tools-version: 6.0
import PackageDescription

/// One set of settings for every Swift target (Swift 6 mode is the tools-version default).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Vigie",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigie", targets: ["vigie"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // C libraries, as Debian ships them. Only Media imports CFFmpeg; only Console will import CNcursesw.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        .systemLibrary(
            name: "CNcursesw",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        // The catalog's engine (the embedded default; RecorderCore's Catalog protocol hides it).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // PDF for the registers and the compliance report (used by Evidence only).
        .systemLibrary(
            name: "CCairo",
            pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]
        ),
        // OpenVINO's C API, declared only: the engine is opened at run time (Analysis), so
        // Vigie builds and runs without it (search disabled).
        .target(name: "COpenVINO", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "Media",
            dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Simulation",
            dependencies: ["Media"],
            // Renders every pixel of the simulated footage: optimised even in debug builds,
            // so tests and first runs do not wait on unoptimised loops.
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // Pure Swift: pictures in, terminal bytes out. No FFmpeg, no ncurses.
        .target(
            name: "Render",
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "RecorderCore",
            dependencies: [
                "Media", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The protocol between the recorder and its consoles: messages only (Codable), no I/O.
        .target(name: "RecorderAPI", swiftSettings: swiftSettings),
        // The recorder as the site's server: HTTP/1.1 (and WebSocket) on a Unix socket and on TLS 1.3.
        .target(
            name: "Server",
            dependencies: [
                "RecorderCore", "RecorderAPI", "Media", "Evidence", "Analysis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Evidence for the court: signed MP4 exports (ONVIF Export File Format), manifests, their verification.
        .target(
            name: "Evidence",
            dependencies: [
                "Media", "RecorderCore", "RecorderAPI", "CCairo",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // Search under requisition: motion, detection (OpenVINO), tracking, colours, appearance,
        // the object index and following a vehicle. Decisions are pure Swift, tested alone.
        .target(
            name: "Analysis",
            dependencies: ["Media", "RecorderCore", "COpenVINO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // A console's and a command's side of the protocol: a Unix-socket or TLS client.
        .target(
            name: "Client",
            dependencies: [
                "RecorderAPI", "RecorderCore", "Media",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Pure Swift: layout and rotation schedule files, the scheduler, tile geometry.
        .target(
            name: "Wall",
            dependencies: ["RecorderCore", "Render", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The console without its terminal: keys in, actions out (pure Swift, tested without a tty).
        .target(name: "ConsoleCore", dependencies: ["RecorderCore", "RecorderAPI"], swiftSettings: swiftSettings),
        // The ncurses view of the console: the only module that imports ncurses.
        .target(
            name: "Console",
            dependencies: ["CNcursesw", "ConsoleCore", "Wall", "Render", "RecorderCore", "RecorderAPI", "Media", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "vigie",
            dependencies: [
                "Media", "RecorderCore", "RecorderAPI", "Server", "Client", "Simulation", "Render", "Wall", "Console", "Evidence", "Analysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Media"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MediaTests", dependencies: ["Media", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RenderTests", dependencies: ["Render", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "WallTests", dependencies: ["Wall", "RecorderCore", "TestSupport"], swiftSettings: swiftSettings),
        // Drives the built `vigie` in tmux (depends on the executable being built first), and
        // reads terminfo through the console's ncurses.
        .testTarget(name: "ConsoleTests", dependencies: ["TestSupport", "Render", "Console"], swiftSettings: swiftSettings),
        .testTarget(name: "ConsoleCoreTests", dependencies: ["ConsoleCore", "RecorderCore", "RecorderAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EvidenceTests", dependencies: ["Evidence", "RecorderCore", "RecorderAPI", "Server", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AnalysisTests", dependencies: ["Analysis", "RecorderCore", "Media", "Simulation", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerWireTests",
            dependencies: [
                "Server", "Media", "RecorderAPI", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Media", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RecorderCoreTests",
            dependencies: ["RecorderCore", "Media", "Simulation", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
