import { mplex as jsMplex } from '@libp2p/mplex'
import { mplex } from '../../../src/muxer/mplex/index.ts'
import { jsInteropTests } from './js-interop.ts'

jsInteropTests('mplex', () => mplex()(), () => jsMplex()())
