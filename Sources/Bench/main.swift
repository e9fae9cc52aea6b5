import Engine
import Foundation

// tune-bench: prefill and decode speed of the engine on a GGUF model (the default model unless
// a path is given), printed as tokens/s. Scripts/bench runs it beside llama.cpp.
//   tune-bench [MODEL.gguf] [--prefill 128,512] [--decode 128] [--repeat 3]
// Every quantization format's size, perplexity, KL and decode speed (Scripts/bench quant runs it):
//   tune-bench [MODEL.gguf] --quant-table [--repeat 3] [--calibration-blocks 16] [--out DIR] [--keep]
// Training throughput and peak memory (Scripts/bench-train runs it beside PyTorch + PEFT):
//   tune-bench [MODEL.gguf] --train lora|full [--checkpointing true|false] [--batch 4] [--seq 256]
//              [--steps 4] [--batches 1] [--lr X] [--rank 8] [--alpha 32] [--text /usr/share/common-licenses/GPL-3]
//              [--save-tokens FILE]

var args = Array(CommandLine.arguments.dropFirst())
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func option(_ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: name), i + 1 < args.count {
        let v = args[i + 1]
        args.removeSubrange(i...(i + 1))
        return v
    }
    return fallback
}
if args.contains("--kernels") {
    for type in [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K, .q5_K] {
        let rate = KernelBenchmark.matVecWeightsPerSecond(type)
        print(String(format: "mat-vec %-5@ 576×1536, one thread: %6.2f G weights/s", type.name as NSString, rate / 1e9))
    }
    exit(0)
}
if args.contains("--quant-table") {
    // Every format in one run: size on disk, perplexity and KL against the source model on the
    // GPL-3 text, decode speed (64 greedy tokens after a 16-token prompt, median of --repeat
    // runs). GPTQ and AWQ (4 bits, group 128) calibrate on other Debian licence texts
    // (--calibration-blocks blocks of 256 tokens). Writes each GGUF file to --out (default: a
    // temporary folder) and removes it after measuring unless --keep is given.
    let outDir = option("--out", NSTemporaryDirectory() + "tune-quant-table")
    let repeats = max(1, Int(option("--repeat", "3")) ?? 3)
    let calibrationBlocks = max(1, Int(option("--calibration-blocks", "16")) ?? 16)
    let textPath = option("--text", "Tests/Fixtures/tokenizer/corpus/GPL-3.txt")
    let keep = args.contains("--keep")
    args.removeAll { $0 == "--quant-table" || $0 == "--keep" }
    let source = try LoadedModel(location: .gguf(args.first ?? ModelStore().resolve(ModelStore.defaultModelId).path))
    let text = try String(contentsOfFile: textPath, encoding: .utf8)
    let ids = source.tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)
    var calibrationIds: [Int] = []
    for name in ["Apache-2.0", "MPL-2.0", "Artistic", "LGPL-2.1"] {
        if let t = try? String(contentsOfFile: "/usr/share/common-licenses/" + name, encoding: .utf8) {
            calibrationIds += source.tokenizer.encode(t, addSpecialTokens: false, parseSpecial: false)
        }
    }
    let calibration = (0..<min(calibrationBlocks, calibrationIds.count / 256)).map { Array(calibrationIds[($0 * 256)..<(($0 + 1) * 256)]) }
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    func decodeRate(_ m: LlamaModel) throws -> Double {
        var rates: [Double] = []
        for _ in 0..<repeats {
            let cache = m.makeCache(capacity: 80)
            var logits = try m.forward(Array(ids.prefix(16)), cache: cache)
            let t0 = now()
            for _ in 0..<64 { logits = try m.forward([argmaxIndex(logits)], cache: cache) }
            rates.append(64 / (now() - t0))
        }
        return rates.sorted()[rates.count / 2]
    }
    // name, how it is made, the GGUF type its file is written as (nil: a format GGUF has no
    // type for, whose size is that of its weights in memory).
    var rows: [(String, () throws -> LlamaModel, GGMLType?)] = []
    for type in [GGMLType.f32, .f16, .bf16, .q8_0, .q6_K, .q5_K, .q5_1, .q5_0, .q4_K, .q4_1, .q4_0, .q3_K, .q2_K] {
        rows.append((type.name, { try source.model.quantized(to: type) }, type))
    }
    rows.append(("gptq 4-bit g128", {
        try CalibratedQuantization.gptq(model: source.model, calibration: calibration, bits: 4, groupSize: 128, symmetric: true)
    }, .q4_0))
    rows.append(("awq 4-bit g128", {
        try CalibratedQuantization.awq(model: source.model, calibration: calibration, bits: 4, groupSize: 128, symmetric: false)
    }, .q4_1))
    rows.append(("bnb nf4 (double quant)", { try source.model.quantizedBNB(BNBOptions(format: .nf4)).model }, nil))
    rows.append(("bnb fp4 (double quant)", { try source.model.quantizedBNB(BNBOptions(format: .fp4)).model }, nil))
    rows.append(("fp8 e4m3", { try source.model.quantizedFP8() }, nil))
    rows.append(("hqq 8-bit g64", { try source.model.quantizedHQQ(bits: 8) }, nil))
    rows.append(("hqq 4-bit g64", { try source.model.quantizedHQQ(bits: 4) }, nil))
    print("| format | size on disk (MB) | perplexity | KL from source (nats) | same top token | decode tokens/s |")
    print("|---|---|---|---|---|---|")
    for (name, make, type) in rows {
        let q = try make()
        let size: Double, label: String
        if let type {
            let path = outDir + "/SmolLM2-135M-Instruct.\(name.split(separator: " ")[0]).gguf"
            try source.writeGGUF(q, to: path, fileType: type)
            size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).doubleValue / 1e6
            if !keep { try? FileManager.default.removeItem(atPath: path) }
            label = name
        } else {
            size = Double(q.namedWeights.reduce(0) { $0 + $1.bytes.count }) / 1e6
            label = name + " ¹"
        }
        let r = try Fidelity.evaluate(q, reference: source.model, ids: ids, context: 256, maxChunks: 8)
        let tps = try decodeRate(q)
        print(String(format: "| %@ | %.1f | %.3f | %.5f | %.1f%% | %.1f |", label as NSString, size, r.perplexity, r.meanKL!, 100 * r.sameTopToken!, tps))
    }
    print("¹ no GGUF type: the size of its weights in memory (embedding and head stay Q8_0, as the reference libraries leave them)")
    let base = try Fidelity.evaluate(source.model, ids: ids, context: 256, maxChunks: 8)
    print(String(format: "source (Q4_1 with Q8_0 embeddings) perplexity %.3f over %d tokens, decode %.1f tokens/s; calibration %d×256 tokens",
                 base.perplexity, base.scoredTokens, try decodeRate(source.model), calibration.count))
    exit(0)
}
let trainMethod = option("--train", "")
if !trainMethod.isEmpty {
    guard let method = TrainingBenchmark.Method(rawValue: trainMethod) else {
        FileHandle.standardError.write("tune-bench: --train takes lora or full, not \(trainMethod)\n".data(using: .utf8)!)
        exit(2)
    }
    let checkpointing = ["1", "true", "yes"].contains(option("--checkpointing", "false").lowercased())
    let batch = Int(option("--batch", "4"))!, seq = Int(option("--seq", "256"))!
    let steps = Int(option("--steps", "4"))!
    // Distinct batches the steps cycle through; 1 (the default) repeats one, so the loss falls visibly.
    let distinct = max(1, Int(option("--batches", "1"))!)
    let lr = Float(option("--lr", method == .lora ? "1e-3" : "2e-5"))!
    let rank = Int(option("--rank", "8"))!, alpha = Float(option("--alpha", "32"))!
    let textPath = option("--text", "/usr/share/common-licenses/GPL-3")
    // Writes the token ids (one line, space-separated) for the PyTorch side to train on the same data.
    let tokensOut = option("--save-tokens", "")
    let loaded = try LoadedModel(location: .gguf(args.first ?? ModelStore().resolve(ModelStore.defaultModelId).path))
    let ids = loaded.tokenizer.encode(try String(contentsOfFile: textPath, encoding: .utf8), addSpecialTokens: false, parseSpecial: false)
    if !tokensOut.isEmpty {
        try ids.map(String.init).joined(separator: " ").write(toFile: tokensOut, atomically: true, encoding: .utf8)
    }
    let windows = stride(from: 0, through: ids.count - seq, by: seq).map { Array(ids[$0..<($0 + seq)]) }
    let batches = Array(stride(from: 0, through: windows.count - batch, by: batch).map { Array(windows[$0..<($0 + batch)]) }.prefix(distinct))
    guard !batches.isEmpty else {
        FileHandle.standardError.write("tune-bench: \(ids.count) tokens do not fill one batch of \(batch)x\(seq)\n".data(using: .utf8)!)
        exit(2)
    }
    print("data: \(ids.count) tokens, steps cycle through \(batches.count) batch(es) of \(batch)x\(seq), id checksum \(ids.reduce(0, +))")
    let run = TrainingBenchmark(model: loaded.model, method: method, rank: rank, alpha: alpha, checkpointing: checkpointing)
    print("train: \(method.rawValue), checkpointing \(checkpointing), \(run.trainableParameterCount) trainable parameters, lr \(lr), threads \(ThreadPool.shared.threadCount) (BLAS \(BLAS.threadCount), core \(BLAS.coreName))")
    TrainingBenchmark.resetPeakResident()
    print(String(format: "resident before the first step: %.0f MB", TrainingBenchmark.residentMB()))
    var times: [Double] = []
    func usage() -> (cpu: Double, faults: Int) {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        let cpu = Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        return (cpu, u.ru_minflt)
    }
    for step in 0..<steps {
        let t0 = now(), u0 = usage()
        let loss = run.step(batches[step % batches.count], learningRate: lr)
        let seconds = now() - t0, u1 = usage()
        print(String(format: "step %d: loss %.4f, %.2f s, %.1f tokens/s (CPU %.2f s, %d page faults)", step + 1, loss, seconds,
                     Double(batch * seq) / seconds, u1.cpu - u0.cpu, u1.faults - u0.faults))
        if step > 0 { times.append(seconds) } else if TapeProfile.enabled { _ = TapeProfile.report() }
    }
    if TapeProfile.enabled { print("time per op over the steps after the first:\n" + TapeProfile.report()) }
    let tokens = Double(batch * seq)
    let mean = times.isEmpty ? .nan : tokens * Double(times.count) / times.reduce(0, +)
    let best = times.isEmpty ? .nan : tokens / times.min()!
    print(String(format: "result: %.1f tokens/s (best step %.1f), peak RSS %.0f MB", mean, best, TrainingBenchmark.peakResidentMB()))
    exit(0)
}
func argmaxIndex(_ x: [Float]) -> Int { var b = 0; for i in x.indices where x[i] > x[b] { b = i }; return b }
let prefillSizes = option("--prefill", "128,512").split(separator: ",").compactMap { Int($0) }
let decodeCount = Int(option("--decode", "128"))!
let repeats = Int(option("--repeat", "3"))!
let path = try args.first ?? ModelStore().resolve(ModelStore.defaultModelId).path

let file = try GGUFFile(map: MappedFile(path: path))
let model = try LlamaModel(gguf: file)
print("model: \(path)")
print("threads: \(ThreadPool.shared.threadCount), BLAS core: \(BLAS.coreName)")

// Deterministic pseudo-random prompt tokens (ids in the ordinary part of the vocabulary).
var rng = RandomSource(seed: 1)
func promptTokens(_ n: Int) -> [Int] { (0..<n).map { _ in 1000 + Int(rng.next() % 20000) } }

// Warm up: touch every page of the weights once.
_ = try model.forward(promptTokens(16), cache: model.makeCache(capacity: 16))

for n in prefillSizes {
    var best = Double.infinity
    for _ in 0..<repeats {
        let cache = model.makeCache(capacity: n)
        let tokens = promptTokens(n)
        let t0 = now()
        _ = try model.forward(tokens, cache: cache)
        best = min(best, now() - t0)
    }
    print(String(format: "prefill %4d tokens: %8.1f tokens/s", n, Double(n) / best))
}
var bestDecode = Double.infinity
for _ in 0..<repeats {
    let cache = model.makeCache(capacity: 16 + decodeCount)
    var logits = try model.forward(promptTokens(16), cache: cache)
    let t0 = now()
    for _ in 0..<decodeCount {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        logits = try model.forward([best], cache: cache)
    }
    bestDecode = min(bestDecode, now() - t0)
}
print(String(format: "decode  %4d tokens: %8.1f tokens/s", decodeCount, Double(decodeCount) / bestDecode))
