// Types for the one function of qrcode-terminal the CLI uses.
declare module 'qrcode-terminal' {
  const qrcode: { generate(text: string, options: { small?: boolean }, callback: (rendered: string) => void): void };
  export default qrcode;
}
