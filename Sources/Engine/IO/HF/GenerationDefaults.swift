import Foundation

/// The defaults a model ships in `generation_config.json`.
///
/// Values given here become the defaults of the generation arguments (`max_new_tokens`,
/// `temperature`, `top_k`, `top_p`, `repetition_penalty`, ...) when the user does not set
/// them; an argument the user sets wins. `do_sample` false means greedy decoding whatever
/// the temperature says, as in transformers.
public struct GenerationDefaults: Sendable, Equatable {
    public var maxNewTokens: Int?
    /// `max_length` counts prompt plus new tokens; kept apart from `maxNewTokens`.
    public var maxLength: Int?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var repetitionPenalty: Double?
    public var doSample: Bool?
    public var eosTokenIds: [Int]
    public var bosTokenId: Int?
    public var padTokenId: Int?
    public var numBeams: Int?

    public init(json data: Data, source: String = "generation_config.json") throws {
        let json = try JSONValues.object(from: data, path: source, what: "the generation config")
        let r = HFJSONReader(json, source: source)
        maxNewTokens = try r.int("max_new_tokens", min: 0)
        maxLength = try r.int("max_length", min: 0)
        temperature = try r.double("temperature")
        if let t = temperature, t < 0 {
            throw FileError(path: source, problem: "temperature must not be negative, not \(t)")
        }
        topK = try r.int("top_k", min: 0)
        topP = try r.double("top_p")
        if let p = topP, !(p >= 0 && p <= 1) {
            throw FileError(path: source, problem: "top_p must be between 0 and 1, not \(p)")
        }
        repetitionPenalty = try r.double("repetition_penalty", positive: true)
        doSample = try r.bool("do_sample")
        eosTokenIds = try r.tokenIds("eos_token_id", default: [])
        bosTokenId = try r.tokenId("bos_token_id", default: nil)
        padTokenId = try r.tokenId("pad_token_id", default: nil)
        numBeams = try r.int("num_beams", min: 1)
    }

    /// True when these defaults ask for greedy decoding.
    public var isGreedy: Bool { doSample == false || (doSample == nil && (temperature ?? 1) == 0) }
}
