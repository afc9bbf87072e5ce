// One seed for every fuzz suite, so a failure reproduces exactly; FUZZ_SEED=<n> explores other inputs.
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261124);
