// Where the hall holding the floor is seen on this screen: the hub insets it at the top right
// of the programme (meetings/rooms/media/compositor.py: 224 x 126 of the 640 x 360 picture,
// 16 px in from the corner), and the programme is drawn to fit the screen (object-fit:
// contain). The kiosk keeps its panels out of that place (hall.css,
// body.programme-inset), from the --inset-left this sets on the page.
const PICTURE = { width: 640, height: 360 };
const INSET = { width: 224, height: 126, margin: 16 };

export function insetBox(video) {
  const width = video.videoWidth || PICTURE.width;
  const height = video.videoHeight || PICTURE.height;
  const box = video.getBoundingClientRect();
  const scale = Math.min(box.width / width, box.height / height);
  const shown = { width: width * scale, height: height * scale };
  const left = box.left + (box.width - shown.width) / 2;
  const top = box.top + (box.height - shown.height) / 2;
  const unit = shown.width / PICTURE.width; // the hub's pixels, at this screen's size
  return {
    left: left + shown.width - (INSET.width + INSET.margin) * unit,
    bottom: top + (INSET.height + INSET.margin) * unit,
  };
}

export function followInset(video) {
  const place = () => {
    const { left } = insetBox(video);
    document.documentElement.style.setProperty("--inset-left", `${Math.round(left)}px`);
  };
  window.addEventListener("resize", place);
  video.addEventListener("loadedmetadata", place);
  video.addEventListener("resize", place); // the picture's own size changed (another tier)
  place();
}
