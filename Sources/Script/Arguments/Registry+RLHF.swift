extension ArgumentRegistry {
    static let rlhfArguments: [ArgumentSpec] = {
        let s = RegistrySection("RLHF Arguments", [.rlhf])
        let models = RegistrySection("Reward/Teacher Model Parameters", [.rlhf])
        let ppo = RegistrySection("PPO Arguments", [.rlhf])
        let atLeastOne = ValueRange(min: 1, max: nil)
        return [
            s.arg("rlhf_type", .choice(["dpo", "orpo", "simpo", "kto", "cpo", "rm", "ppo", "grpo", "gkd"]), "dpo",
                  "The preference or reinforcement method: DPO-style pairwise losses, KTO, a reward model (rm), PPO, GRPO or GKD distillation."),
            s.arg("ref_model", .string, .none,
                  "Frozen reference model for the KL term (needed for full training with dpo, kto, ppo and grpo)."),
            s.arg("ref_model_type", .string, .none, "model_type of the reference model."),
            s.arg("ref_model_revision", .string, .none, "Hub revision of the reference model."),
            s.arg("beta", .float, .none,
                  "Weight of the KL (or reward-margin) term; None means 2.0 for simpo, 0.04 for grpo, 0.5 for gkd and 0.1 otherwise.",
                  derived: DerivedDefault("simpo 2.0, grpo 0.04, gkd 0.5, other methods 0.1") { c in
                      switch c.string("rlhf_type") {
                      case "simpo": return 2.0
                      case "grpo": return 0.04
                      case "gkd": return 0.5
                      default: return 0.1
                      }
                  }),
            s.arg("label_smoothing", .float, 0.0,
                  "DPO label smoothing: how much the preference labels are assumed to be noisy.", range: .unit),
            s.arg("max_completion_length", .int, 512, "Longest completion generated during GRPO, PPO or GKD training.",
                  range: atLeastOne),
            s.arg("rpo_alpha", .float, 1.0, "Weight of the added supervised loss in DPO (loss = preference loss + rpo_alpha x SFT loss).",
                  range: .nonNegative),
            s.arg("cpo_alpha", .float, 1.0, "Weight of the negative log-likelihood term in CPO and SimPO.", range: .nonNegative),
            s.arg("simpo_gamma", .float, 1.0, "Target reward margin of SimPO (0.5 to 1.5 is suggested).", range: .nonNegative),
            s.arg("desirable_weight", .float, 1.0, "KTO: loss weight of the good (desirable) answers.", range: .nonNegative),
            s.arg("undesirable_weight", .float, 1.0, "KTO: loss weight of the bad (undesirable) answers.", range: .nonNegative),
            s.arg("lmbda", .float, 0.5,
                  "GKD: share of training examples whose answers the student generates itself; 0 uses only dataset answers.",
                  range: .unit),
            s.arg("sft_alpha", .float, 0.0, "GKD: weight of an extra supervised loss added to the distillation loss.",
                  range: .nonNegative),
            s.arg("seq_kd", .bool, false,
                  "GKD: have the teacher generate the target sequences during training (sequence-level distillation)."),
            models.arg("reward_model", .list(of: .string), .none, "Reward model(s) scoring completions in PPO and GRPO."),
            models.arg("reward_adapters", .list(of: .string), [], "Adapters to load onto the reward model."),
            models.arg("reward_model_type", .list(of: .string), .none, "model_type of each reward model."),
            models.arg("reward_model_revision", .list(of: .string), .none, "Hub revision of each reward model."),
            models.arg("teacher_model", .string, .none, "Teacher model distilled from in GKD (required there)."),
            models.arg("teacher_adapters", .list(of: .string), [], "Adapters to load onto the teacher model."),
            models.arg("teacher_model_type", .string, .none, "model_type of the teacher model."),
            models.arg("teacher_model_revision", .string, .none, "Hub revision of the teacher model."),
            ppo.arg("num_ppo_epochs", .int, 4, "PPO: optimisation passes over each batch of rollouts.", range: atLeastOne),
            ppo.arg("whiten_rewards", .bool, false, "PPO: normalise rewards to zero mean and unit variance."),
            ppo.arg("kl_coef", .float, 0.05, "PPO: weight of the KL penalty against the reference model.", range: .nonNegative),
            ppo.arg("cliprange", .float, 0.2, "PPO: how far the policy ratio may move before it is clipped.", range: .nonNegative),
            ppo.arg("vf_coef", .float, 0.1, "PPO: weight of the value-function loss.", range: .nonNegative),
            ppo.arg("cliprange_value", .float, 0.2, "PPO: clipping range of the value estimates.", range: .nonNegative),
            ppo.arg("gamma", .float, 1.0, "PPO: discount applied to future rewards.", range: .unit),
            ppo.arg("lam", .float, 0.95, "PPO: lambda of generalised advantage estimation.", range: .unit),
            ppo.arg("num_mini_batches", .int, 1, "PPO: mini-batches each rollout batch is split into.", range: atLeastOne),
            ppo.arg("local_rollout_forward_batch_size", .int, 64, "PPO: batch size of the forward passes during rollouts.",
                    range: atLeastOne),
            ppo.arg("num_sample_generations", .int, 10, "PPO: how many times during training sample generations are logged.",
                    range: .nonNegative),
            ppo.arg("missing_eos_penalty", .float, .none,
                    "PPO: amount subtracted from the reward of a completion that never ends with EOS."),
        ]
    }()
}
