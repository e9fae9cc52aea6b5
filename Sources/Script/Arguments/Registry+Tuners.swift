extension ArgumentRegistry {
    /// Tuners other than LoRA and full fine-tuning: documented, but this engine does not train them.
    static let otherTunerArguments: [ArgumentSpec] = {
        func tuner(_ name: String) -> EngineSupport {
            Unsupported.absent("\(name) is not implemented", instead: "use train_type 'lora' or 'full'")
        }
        let fourier = RegistrySection("FourierFt", .training)
        let boft = RegistrySection("BOFT", .training)
        let vera = RegistrySection("Vera", .training)
        let galore = RegistrySection("GaLore", .training)
        let lisa = RegistrySection("LISA", .training)
        let pro = RegistrySection("LLAMAPRO", .training)
        let ada = RegistrySection("AdaLoRA", .training)
        let reft = RegistrySection("ReFT", .training)
        let (f, b, v, g, l, p, a, r) = (tuner("FourierFT"), tuner("BOFT"), tuner("VeRA"), tuner("GaLore"),
                                        tuner("LISA"), tuner("LLaMA-Pro"), tuner("AdaLoRA"), tuner("ReFT"))
        let atLeastOne = ValueRange(min: 1, max: nil)
        return [
            fourier.arg("fourier_n_frequency", .int, 2000,
                        "FourierFT: number of trained spectral coefficients per layer (plays the role of LoRA's rank).",
                        range: atLeastOne, support: f),
            fourier.arg("fourier_scaling", .float, 300.0,
                        "FourierFT: scale of the reconstructed weight update (plays the role of lora_alpha).", support: f),
            boft.arg("boft_block_size", .int, 4, "BOFT: size of each block of the butterfly orthogonal factors.",
                     range: atLeastOne, support: b),
            boft.noDefault("boft_block_num", .int, "BOFT: number of blocks; give this or boft_block_size, not both.",
                           range: atLeastOne, support: b),
            boft.arg("boft_dropout", .float, 0.0, "BOFT: dropout probability on the orthogonal blocks.",
                     range: .unit, support: b),
            vera.arg("vera_rank", .int, 256, "VeRA: rank of the shared random projection matrices.",
                     range: atLeastOne, support: v),
            vera.arg("vera_projection_prng_key", .bool, true,
                     "VeRA: save the shared projection matrices with the adapter instead of regenerating them from a seed.",
                     support: v),
            vera.arg("vera_dropout", .float, 0.0, "VeRA: dropout probability on the adapter input.", range: .unit, support: v),
            vera.arg("vera_d_initial", .float, 0.1, "VeRA: starting value of the trained scaling vector d.", support: v),
            galore.arg("use_galore", .bool, false,
                       "Train with GaLore: project gradients onto a low-rank subspace to shrink optimizer memory.",
                       support: g),
            galore.arg("galore_target_modules", .list(of: .string), .none,
                       "Modules whose gradients GaLore projects; None means attention and MLP layers.", support: g),
            galore.arg("galore_rank", .int, 128, "GaLore: rank of the gradient projection.", range: atLeastOne, support: g),
            galore.arg("galore_update_proj_gap", .int, 50, "GaLore: steps between recomputing the projection.",
                       range: atLeastOne, support: g),
            galore.arg("galore_scale", .float, 1.0, "GaLore: scale applied to the projected update.", support: g),
            galore.arg("galore_proj_type", .openChoice(["std", "reverse_std", "left", "right", "full"]), "std",
                       "GaLore: which side(s) of the gradient the projection is applied to.", support: g),
            galore.arg("galore_optim_per_parameter", .bool, false,
                       "GaLore: give every target parameter its own optimizer instance.", support: g),
            galore.arg("galore_with_embedding", .bool, false, "GaLore: also project the embedding gradients.", support: g),
            galore.arg("galore_quantization", .bool, false, "Use Q-GaLore (quantized GaLore).", support: g),
            galore.arg("galore_proj_quant", .bool, false, "Q-GaLore: quantize the projection matrices.", support: g),
            galore.noDefault("galore_proj_bits", .int, "Q-GaLore: bits used for the quantized projection.",
                             range: atLeastOne, support: g),
            galore.noDefault("galore_proj_group_size", .int, "Q-GaLore: group size of the projection quantization.",
                             range: atLeastOne, support: g),
            galore.arg("galore_cos_threshold", .float, 0.4,
                       "Q-GaLore: cosine similarity above which the projection is considered stable.", support: g),
            galore.arg("galore_gamma_proj", .int, 2,
                       "Q-GaLore: factor by which the update interval grows while the projection stays stable.", support: g),
            galore.arg("galore_queue_size", .int, 5,
                       "Q-GaLore: how many past projections are compared to judge stability.", range: atLeastOne, support: g),
            lisa.arg("lisa_activated_layers", .int, 0,
                     "LISA (full training only): number of randomly chosen layers trained at a time; 0 turns LISA off.",
                     range: .nonNegative, support: l),
            lisa.arg("lisa_step_interval", .int, 20, "LISA: steps between re-drawing the trained layers.",
                     range: atLeastOne, support: l),
            pro.arg("llamapro_num_new_blocks", .int, 4, "LLaMA-Pro: number of new transformer blocks inserted and trained.",
                    range: atLeastOne, support: p),
            pro.arg("llamapro_num_groups", .int, .none,
                    "LLaMA-Pro: number of groups the new blocks are spread over; None places each block separately.",
                    range: atLeastOne, support: p,
                    derived: DerivedDefault("same as llamapro_num_new_blocks") { $0.value("llamapro_num_new_blocks") }),
            ada.arg("adalora_target_r", .int, 8, "AdaLoRA: average rank to keep after pruning.", range: atLeastOne, support: a),
            ada.arg("adalora_init_r", .int, 12, "AdaLoRA: rank each layer starts with.", range: atLeastOne, support: a),
            ada.arg("adalora_tinit", .int, 0, "AdaLoRA: steps before rank pruning starts.", range: .nonNegative, support: a),
            ada.arg("adalora_tfinal", .int, 0, "AdaLoRA: final steps during which ranks stay fixed.", range: .nonNegative,
                    support: a),
            ada.arg("adalora_deltaT", .int, 1, "AdaLoRA: steps between rank reallocations.", range: atLeastOne, support: a),
            ada.arg("adalora_beta1", .float, 0.85, "AdaLoRA: smoothing factor of the importance estimate.", range: .unit,
                    support: a),
            ada.arg("adalora_beta2", .float, 0.85, "AdaLoRA: smoothing factor of the importance uncertainty.", range: .unit,
                    support: a),
            ada.arg("adalora_orth_reg_weight", .float, 0.5, "AdaLoRA: weight of the orthogonality penalty on P and Q.",
                    range: .nonNegative, support: a),
            reft.arg("reft_layers", .list(of: .int), .none, "ReFT: layer indices that get interventions; None means all.",
                     range: .nonNegative, support: r),
            reft.arg("reft_rank", .int, 4, "ReFT: rank of the intervention subspace.", range: atLeastOne, support: r),
            reft.arg("reft_intervention_type",
                     .choice(["NoreftIntervention", "LoreftIntervention", "ConsreftIntervention", "LobireftIntervention",
                              "DireftIntervention", "NodireftIntervention"]), "LoreftIntervention",
                     "ReFT: which kind of representation intervention to train.", support: r),
            reft.noDefault("reft_args", .json, "ReFT: further intervention settings as a JSON object.", support: r),
        ]
    }()
}
