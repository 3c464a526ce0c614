/**
 * Loaded once per worker thread, before any saga runs (the bundle's `preloadModules`, see ../worker), so that every
 * cached saga shares one copy of zod instead of evaluating its ~400 modules (locales included) for itself: with the
 * SDK's reusable V8 context, each workflow otherwise gets a module cache of its own, and zod was most of what a parked
 * saga held. zod keeps no per-workflow state; its exports are frozen once preloaded.
 */
import { z } from 'zod';

// zod decides once, lazily, whether it may compile parsers (`allowsEval`, a module-level cache). Frozen before that
// first look, the lazy write would throw in the first saga that parses an object: build one object schema here.
z.object({});
