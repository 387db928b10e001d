// aegir/chai as @libp2p/interop uses it: chai 4 with promise, bytes and parentheses plugins.
import chai from 'chai'
import chaiAsPromised from 'chai-as-promised'
import chaiBites from 'chai-bites'
import chaiParentheses from 'chai-parentheses'

chai.use(chaiAsPromised)
chai.use(chaiParentheses)
chai.use(chaiBites)

export const expect = chai.expect
export const assert = chai.assert
export { chai }
