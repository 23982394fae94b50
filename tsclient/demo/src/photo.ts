// Photos are downscaled in the browser before they are sent, as the seed advises: a
// phone photo of several MB becomes a JPEG of a few tens of KB.

/** MAX_SIDE is the longest side of an uploaded photo, in pixels. */
export const MAX_SIDE = 512;

/** MAX_BYTES keeps the JPEG under the server's limit (256 KiB decoded), with a margin. */
const MAX_BYTES = 240 * 1024;

/** toJpegDataURL draws the image file on a canvas of at most MAX_SIDE pixels a side and encodes it as JPEG. */
export async function toJpegDataURL(file: Blob): Promise<string> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext("2d");
  if (ctx === null) throw new Error("no 2D canvas");
  ctx.fillStyle = "#fff"; // JPEG has no transparency: put transparent photos on white
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  for (let quality = 0.85; ; quality -= 0.15) {
    const url = canvas.toDataURL("image/jpeg", quality);
    if (decodedSize(url) <= MAX_BYTES || quality < 0.3) return url;
  }
}

function decodedSize(dataURL: string): number {
  const base64 = dataURL.slice(dataURL.indexOf(",") + 1);
  return Math.floor((base64.length * 3) / 4);
}
