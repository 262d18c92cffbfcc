/** The local runtime uses the product's one limiter (src/lib/limiter). */
export { Limiter } from "../src/lib/limiter";
