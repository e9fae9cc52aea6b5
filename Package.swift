// swift-tools-version:6.0
import PackageDescription

// Layers (see DESIGN.md): tune (Sources/Repl) -> Script -> Engine.
// OpenBLAS is opened at run time by Engine/Kernels/BLASLoader.swift (dlopen after choosing
// OPENBLAS_CORETYPE), so COpenBLAS provides declarations only and is not linked.
let package = Package(
    name: "tune",
    products: [
        .executable(name: "tune", targets: ["Repl"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Script", targets: ["Script"]),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CEditline", path: "Sources/CEditline", pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]),
        .target(
            name: "Engine", dependencies: ["COpenBLAS"], path: "Sources/Engine",
            // The kernels are written for AVX2/FMA/F16C (x86-64-v3, every x86 server since 2015);
            // without it SIMD16 and Float16 conversions fall back to slow scalar code.
            swiftSettings: [.unsafeFlags(["-cross-module-optimization", "-target-cpu", "haswell"])],
            linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "Script", dependencies: ["Engine"], path: "Sources/Script"),
        .executableTarget(name: "tune-bench", dependencies: ["Engine"], path: "Sources/Bench"),
        .executableTarget(name: "Repl", dependencies: ["Script", "CEditline"], path: "Sources/Repl"),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine"], path: "Tests/EngineTests"),
        .testTarget(name: "ScriptTests", dependencies: ["Script"], path: "Tests/ScriptTests"),
        // Drives the built `tune` binary (transcripts, a pseudo-terminal through tmux).
        .testTarget(name: "ReplTests", dependencies: ["Repl"], path: "Tests/ReplTests"),
    ],
    swiftLanguageModes: [.v5]
)
