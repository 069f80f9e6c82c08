"""PyTorch reference of PIDNet's training loss (docs/pidnet-s.md, "Training loss") and of ICFRNet's
IC loss (docs/icfrnet.md, "IC loss"), written from those pages for rtseg's parity test (not taken
from any repository). Dev-time only.

pidnet_loss(heads, labels, edges) returns the four weighted terms and their sum:
  aux  = 0.4 · Σ w_y·nll / (N·H·W)          (or the weighted mean)
  main = OHEM CE (thresh 0.9, min_kept 131072, pooled over the batch)
  boundary = 20 · class-balanced BCE with logits
  boundary_semantic = OHEM CE with the label kept where sigmoid(boundary) > 0.8
after resizing every head to the label size (bilinear, align_corners=True).
"""
import torch
import torch.nn.functional as F

CITYSCAPES_CLASS_WEIGHTS = [0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786,
                            1.0023, 0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529,
                            1.0507]
IGNORE = 255


def to_label_size(x, size, align_corners=True):
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)


def pixel_ce(logits, labels, weights):
    """w_y·nll per pixel, 0 where ignored."""
    return F.cross_entropy(logits, labels, weight=weights, ignore_index=IGNORE, reduction="none")


def aux_ce(logits, labels, weights, weighted_mean=False):
    if weighted_mean:
        return F.cross_entropy(logits, labels, weight=weights, ignore_index=IGNORE)
    # Averaged over every pixel of the batch, ignored ones included (they contribute 0).
    return pixel_ce(logits, labels, weights).mean()


def target_probability(logits, labels):
    """Softmax probability of the labelled class at every pixel (anything where ignored)."""
    index = labels.clone()
    index[labels == IGNORE] = 0
    return F.softmax(logits, dim=1).gather(1, index.unsqueeze(1)).squeeze(1)


def ohem_ce(logits, labels, weights, thresh=0.9, min_kept=131072):
    losses = pixel_ce(logits, labels, weights).flatten()
    labelled = labels.flatten() != IGNORE
    if not bool(labelled.any()):
        return logits.sum() * 0  # nothing to learn from (the authors' code would raise)
    with torch.no_grad():
        p = target_probability(logits, labels).flatten()[labelled]
        ordered = torch.sort(p).values
        order_stat = ordered[min(min_kept, ordered.numel() - 1)]
        # max(order statistic, thresh); compared in the logits' dtype, as a tensor-vs-scalar
        # comparison does.
        keep = p < order_stat if bool(order_stat > thresh) else p < thresh
    chosen = losses[labelled][keep]
    if chosen.numel() == 0:
        return logits.sum() * 0
    return chosen.mean()


def balanced_bce(logits, target):
    x, t = logits.flatten(), target.flatten().to(logits.dtype)
    positive, negative = t == 1, t == 0
    n_pos, n_neg = positive.sum(), negative.sum()
    total = n_pos + n_neg
    weight = torch.zeros_like(x)
    weight[positive] = n_neg.to(x.dtype) / total.to(x.dtype)
    weight[negative] = n_pos.to(x.dtype) / total.to(x.dtype)
    return F.binary_cross_entropy_with_logits(x, t, weight=weight, reduction="mean")


def boundary_aware_labels(boundary, labels, threshold=0.8):
    with torch.no_grad():
        confident = torch.sigmoid(boundary[:, 0]) > threshold
        return torch.where(confident, labels, torch.full_like(labels, IGNORE))


def pidnet_loss(heads, labels, edges, weights=None, min_kept=131072, thresh=0.9,
                weighted_mean_aux=False):
    size = labels.shape[-2:]
    aux, main, boundary = [to_label_size(h, size) for h in heads]
    terms = {
        "aux": 0.4 * aux_ce(aux, labels, weights, weighted_mean_aux),
        "main": 1.0 * ohem_ce(main, labels, weights, thresh, min_kept),
        "boundary": 20.0 * balanced_bce(boundary, edges),
        "boundary_semantic": 1.0 * ohem_ce(main, boundary_aware_labels(boundary, labels), weights,
                                           thresh, min_kept),
    }
    terms["total"] = terms["aux"] + terms["main"] + terms["boundary"] + terms["boundary_semantic"]
    return terms


def ic_loss(ic_logits, teacher, a=1.0, b=10.0, temperature=0.6):
    """a·MSE + b·T²·KL(softmax(teacher/T) ‖ softmax(prediction/T)) per image, batchmean."""
    prediction = torch.sigmoid(to_label_size(ic_logits, teacher.shape[-2:], align_corners=False))
    teacher = teacher.detach()
    mse = F.mse_loss(prediction, teacher)
    log_student = F.log_softmax(prediction.flatten(1) / temperature, dim=1)
    target = F.softmax(teacher.flatten(1) / temperature, dim=1)
    kl = F.kl_div(log_student, target, reduction="batchmean") * temperature ** 2
    return {"mse": a * mse, "kl": b * kl, "total": a * mse + b * kl}
