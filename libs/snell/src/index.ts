export { plainMatMul } from './lib/matmul';
