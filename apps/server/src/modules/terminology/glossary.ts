/** Glossary injection lives in the engine (workflow steps use it too); the API uses the same function. */
export { DEFAULT_GLOSSARY_TOKENS, type Glossary, glossaryFor } from '@aiops/engine';
