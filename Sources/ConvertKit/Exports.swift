// The types of lower targets that ConvertKit's own API takes and returns, named here so a client (the
// rmt-convert executable) imports ConvertKit alone. Each is the lower target's type itself, not a copy.
import Checkpoints
import KeyMaps
import Models
import RMT
import TensorCore

/// A checkpoint file format (Checkpoints).
public typealias CheckpointFormat = Checkpoints.CheckpointFormat
/// The error of checkpoint I/O: one line naming the file and what to do (Checkpoints).
public typealias CheckpointError = Checkpoints.CheckpointError
/// Reader options (Checkpoints).
public typealias ReadOptions = Checkpoints.ReadOptions
/// A checkpoint file or folder (Checkpoints).
public typealias Checkpoint = Checkpoints.Checkpoint
/// An element type (TensorCore).
public typealias DType = TensorCore.DType
/// How `convert` names its output (KeyMaps).
public typealias NameStyle = KeyMaps.NameStyle
/// A transformers class the registry builds (Models).
public typealias ModelArchitecture = Models.ModelArchitecture
/// The two RMT variants (RMT).
public typealias RMTVariant = RMT.RMTVariant
/// Where the short segment goes (RMT).
public typealias SegmentAlignment = RMT.SegmentAlignment
/// Which transformers version's buffers a state dict carries (Models).
public typealias StateDictProfile = Models.StateDictProfile
/// What `wrap` builds (RMT).
public typealias WrapOptions = RMT.WrapOptions
/// How an RMT folder is written (RMT).
public typealias RMTExportOptions = RMT.RMTExportOptions
/// The synthetic memory tasks `make-task` writes (RMT).
public typealias MemoryTaskKind = RMT.MemoryTaskKind
/// One synthetic task's settings and layout (RMT).
public typealias MemoryTask = RMT.MemoryTask
/// The settings of a fresh GPT-2 and its initialisation (Models).
public typealias GPT2Initialization = Models.GPT2Initialization
/// The settings of a training run (RMT).
public typealias TrainingOptions = RMT.TrainingOptions
/// `train_state/state.json` of a saved run (RMT).
public typealias TrainingState = RMT.TrainingState
